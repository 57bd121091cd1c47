/**
 * A dialog in either role (RFC 3261 §12). Created by answering an INVITE (§12.1.1, `IncomingInvite`)
 * or by a 2xx to an INVITE we sent (§12.1.2, `OutgoingInvite`); from then on both roles behave the
 * same: in-dialog requests are checked (§12.2.2: CSeq must grow) and ours follow the route set
 * (§12.2.1.1, loose and strict). A 2xx we send to an INVITE (the first one as UAS, any re-INVITE
 * in either role) is retransmitted until the ACK arrives (§13.3.1.4); without one for 64*T1 the
 * dialog ends with a BYE. A BYE we must send before that ACK waits for it (§15). A 2xx we
 * receive to an INVITE we sent is ACKed by us, retransmissions included (§13.2.2.4).
 */
import type { Logger } from 'pino';
import type { TimerHandle } from './clock.js';
import { buildAck, dialogHeaders, nextHop, stampVia } from './dialog-route.js';
import { dialogId, uacState, uasState, type DialogRole, type DialogState } from './dialog-state.js';
import { Emitter } from './emitter.js';
import { parseCSeq, parseNameAddr } from './grammar.js';
import { newRequest, type SipRequest, type SipResponse } from './message.js';
import { makeResponse } from './response.js';
import { negotiate, responseHeaders } from './session-timer.js';
import { DialogSessionTimer } from './dialog-timer.js';
import type { ServerTransaction } from './endpoint.js';
import type { DialogEndReason, DialogEvents, DialogHandler, DialogInit } from './dialog-types.js';
import type { Destination } from './transport/types.js';

export { dialogId };
export type { DialogRole } from './dialog-state.js';
export type { DialogEndReason, DialogEvents, DialogHandler, DialogInit, UacDialogInit, UasDialogInit } from './dialog-types.js';

type State = 'waiting-ack' | 'confirmed' | 'terminated';

export class Dialog extends Emitter<DialogEvents> {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly id: string;
  state: State = 'waiting-ack';
  handler?: DialogHandler;
  private readonly d: DialogState;
  /** CSeq of the INVITE whose 2xx we are retransmitting (waiting for its ACK). */
  private inviteSeq = 0;
  private retransmit?: TimerHandle;
  private ackTimer?: TimerHandle;
  private readonly timer: DialogSessionTimer;
  private pendingBye?: { resolve: (r: SipResponse | 'timeout' | undefined) => void; reason: DialogEndReason; headers: Record<string, string> };
  private localSdp: string;
  /** The last ACK we sent for a 2xx, re-sent for that 2xx's retransmissions (§13.2.2.4). */
  private lastAck?: { seq: number; req: SipRequest; dest: Promise<Destination> };
  /** A re-INVITE of ours is in progress (§14.1: one INVITE transaction at a time, either direction). */
  private offering = false;
  /** Offers of ours waiting for the INVITE transaction in progress to end. */
  private offerWaiters: (() => void)[] = [];

  constructor(private readonly init: DialogInit) {
    super();
    this.d = init.role === 'uac' ? uacState(init.invite, init.okResponse) : uasState(init.invite, init.localTag);
    this.role = this.d.role;
    this.callId = this.d.callId;
    this.localTag = this.d.localTag;
    this.remoteTag = this.d.remoteTag;
    this.id = dialogId(this.callId, this.localTag, this.remoteTag);
    this.localSdp = init.localSdp;
    this.timer = new DialogSessionTimer(init.endpoint.clock, init.sessionTimers, {
      refresh: (interval) => void this.refresh(interval),
      expired: (interval) => {
        this.log.warn({ callId: this.callId, interval }, 'session timer expired without refresh: sending BYE');
        void this.bye('session-expired');
      },
    });
    if (init.role === 'uac') {
      // §13.2.2.4: the dialog is confirmed by the 2xx; its ACK is sent by `receive2xx`.
      this.state = 'confirmed';
      if (this.timer.fromResponse(init.okResponse)) this.timer.arm();
    } else {
      this.inviteSeq = this.d.remoteSeq!;
      this.timer.fromRequest(init.invite);
      this.startRetransmit(init.okResponse);
    }
  }

  get log(): Logger {
    return this.init.logger;
  }

  // ------------------------------------------------------------ 2xx reliability (§13.3.1.4)

  private startRetransmit(ok: SipResponse): void {
    const { clock, timers } = this.init.endpoint;
    this.stopRetransmit();
    if (this.init.flow.transport === 'udp') {
      let interval = timers.T1;
      const tick = (): void => {
        this.init.endpoint.sendResponse(ok, this.init.flow);
        interval = Math.min(2 * interval, timers.T2);
        this.retransmit = clock.set(interval, tick);
      };
      this.retransmit = clock.set(interval, tick);
    }
    this.ackTimer = clock.set(64 * timers.T1, () => this.onAckTimeout());
  }

  private stopRetransmit(): void {
    this.retransmit?.cancel();
    this.ackTimer?.cancel();
    this.retransmit = this.ackTimer = undefined;
  }

  private onAckTimeout(): void {
    this.stopRetransmit();
    this.log.warn({ callId: this.callId }, 'no ACK for 2xx within 64*T1: ending the session with BYE');
    this.state = 'confirmed';
    this.wakeOfferWaiters();
    void this.bye('ack-timeout');
  }

  /** The ACK for our 2xx (a new transaction, routed here by the UA). */
  receiveAck(req: SipRequest): void {
    const seq = parseCSeq(req.headers.get('CSeq')!).seq;
    if (this.state !== 'waiting-ack' || seq !== this.inviteSeq) return;
    this.stopRetransmit();
    this.state = 'confirmed';
    this.wakeOfferWaiters();
    this.emit('confirmed');
    const bye = this.pendingBye;
    if (bye) {
      this.pendingBye = undefined;
      void this.bye(bye.reason, bye.headers).then(bye.resolve);
    }
  }

  // ------------------------------------------------------------ in-dialog requests (§12.2.2)

  receive(req: SipRequest, tx: ServerTransaction): void {
    const respond = (status: number, reason?: string, extra?: Record<string, string>, body?: string): void => {
      tx.respond(makeResponse(req, status, reason, this.localTag, { ...this.init.commonHeaders, ...extra }, body ? Buffer.from(body) : undefined));
    };
    if (this.state === 'terminated') return respond(481, 'Dialog terminated');
    const seq = parseCSeq(req.headers.get('CSeq')!).seq;
    // §12.2.2: a UAC dialog has no remote CSeq until the peer's first request.
    if (this.d.remoteSeq !== undefined && seq <= this.d.remoteSeq) return respond(500, 'CSeq out of order', { 'Retry-After': '1' });
    this.d.remoteSeq = seq;
    switch (req.method) {
      case 'BYE':
        respond(200);
        this.end('remote-bye', req);
        return;
      case 'INVITE':
      case 'UPDATE':
        // §14.2 (and RFC 3311 §5.2 for UPDATE): an offer while ours is pending is glare.
        if (this.offering && (req.method === 'INVITE' || req.body.length > 0)) return respond(491, 'Request Pending');
        return this.receiveOffer(req, tx, respond);
      case 'INFO': {
        const r = this.handler?.info(req) ?? { status: 200 };
        return respond(r.status, r.reason);
      }
      case 'OPTIONS':
        return respond(200, undefined, { Accept: 'application/sdp' });
      case 'REFER':
        if (this.handler?.refer) {
          const r = this.handler.refer(req);
          return respond(r.status, r.reason);
        }
        return respond(405, 'Method not allowed in this dialog', { Allow: this.init.commonHeaders['Allow'] ?? '' });
      case 'NOTIFY':
        // Progress of a REFER we sent (RFC 3515 §2.4.4); the transfer outcome is the REFER's answer.
        return respond(200);
      case 'PRACK':
        // We never send reliable provisional responses (RFC 3262), so there is nothing to acknowledge.
        return respond(481, 'No reliable provisional response to acknowledge');
      default:
        return respond(405, 'Method not allowed in this dialog', { Allow: this.init.commonHeaders['Allow'] ?? '' });
    }
  }

  private receiveOffer(req: SipRequest, tx: ServerTransaction, respond: (s: number, r?: string, e?: Record<string, string>, b?: string) => void): void {
    const n = negotiate(req, this.init.sessionTimers);
    if (n.kind === 'reject') return respond(422, 'Session interval too small', { 'Min-SE': String(n.minSE) });
    if (n.kind === 'invalid') return respond(400, n.reason);
    const hasSdp = req.body.length > 0;
    const result = this.handler
      ? this.handler.offer(hasSdp ? req.body.toString('utf8') : undefined, req)
      : { sdp: this.localSdp };
    if ('status' in result) return respond(result.status, result.reason);
    this.localSdp = result.sdp;
    this.timer.fromRequest(req);
    // §12.2.2: a target refresh request replaces the remote target with its Contact.
    const contact = req.headers.get('Contact');
    if (contact) this.d.remoteTarget = parseNameAddr(contact).uri;
    // §12.2: a target-refresh request's 2xx carries our Contact.
    const headers: Record<string, string> = { ...this.init.commonHeaders, Contact: this.init.localContact };
    if (n.kind === 'use') Object.assign(headers, responseHeaders(n));
    const body = hasSdp || req.method === 'INVITE' ? result.sdp : undefined;
    if (body) headers['Content-Type'] = 'application/sdp';
    const res = makeResponse(req, 200, undefined, this.localTag, headers, body ? Buffer.from(body) : undefined);
    tx.respond(res);
    if (req.method === 'INVITE') {
      // A re-INVITE's 2xx needs its own ACK, with the same reliability rules as the first one.
      this.inviteSeq = parseCSeq(req.headers.get('CSeq')!).seq;
      this.state = 'waiting-ack';
      this.startRetransmit(res);
    }
  }

  // ------------------------------------------------------------ session timers (RFC 4028)

  /** §7.2/§8: refresh with UPDATE when the peer allows it, else re-INVITE with our current SDP. */
  private async refresh(interval: number): Promise<void> {
    if (this.state === 'terminated') return;
    const method = this.d.peerAllowsUpdate ? 'UPDATE' : 'INVITE';
    const headers: Record<string, string> = {
      'Session-Expires': `${interval};refresher=uac`,
      Supported: 'timer',
      Contact: this.init.localContact,
    };
    const res = method === 'INVITE' ? await this.offer(this.localSdp, headers) : await this.request(method, headers);
    if (res === 'timeout' || res.status === 408 || res.status === 481) {
      void this.bye('request-timeout');
      return;
    }
    // The ACK for a re-INVITE's 2xx was sent by `request`.
    if (res.status >= 200 && res.status < 300) this.timer.fromResponse(res);
    if ((this.state as State) !== 'terminated') this.timer.arm();
  }

  // ------------------------------------------------------------ offers we make (§14.1, RFC 3264 §8)

  /**
   * A new offer of ours in a re-INVITE (hold as `sendonly`, resume as `sendrecv`, a session
   * refresh). It waits while another INVITE transaction is in progress in either direction
   * (§14.1); a 491 (the peer's offer crossed ours, §14.2) is retried after §14.1's wait: 2.1-4 s
   * when we own the Call-ID (we sent the first INVITE), else 0-2 s, at most `attempts` times. A
   * non-2xx final answer leaves the session as it was (§14.1); a 2xx's SDP is the answer.
   */
  async reoffer(sdp: string, attempts = 3): Promise<{ ok: true; answer: string } | { ok: false; status: number | 'timeout' }> {
    const res = await this.offer(sdp, {}, attempts);
    if (res === 'timeout') return { ok: false, status: 'timeout' };
    if (res.status >= 300) {
      // §14.1: a 408 or 481 to a re-INVITE ends the dialog.
      if (res.status === 408 || res.status === 481) void this.bye('request-timeout');
      return { ok: false, status: res.status };
    }
    return { ok: true, answer: res.body.toString('utf8') };
  }

  private async offer(sdp: string, headers: Record<string, string>, attempts = 3): Promise<SipResponse | 'timeout'> {
    for (let n = 1; ; n++) {
      while (this.offering || this.state === 'waiting-ack') await new Promise<void>((r) => this.offerWaiters.push(r));
      if (this.state === 'terminated') return 'timeout';
      this.offering = true;
      let res: SipResponse | 'timeout';
      try {
        res = await this.request('INVITE', headers, sdp);
      } finally {
        this.offering = false;
        this.wakeOfferWaiters();
      }
      if (res !== 'timeout' && res.status >= 200 && res.status < 300) this.localSdp = sdp;
      if (res === 'timeout' || res.status !== 491 || n >= attempts) return res;
      const ms = this.role === 'uac' ? 2100 + 10 * Math.floor(Math.random() * 191) : 10 * Math.floor(Math.random() * 201);
      this.log.info({ callId: this.callId, waitMs: ms, attempt: n }, 're-INVITE met 491 (glare): retried after the RFC 3261 §14.1 wait');
      await new Promise<void>((r) => this.init.endpoint.clock.set(ms, r));
    }
  }

  private wakeOfferWaiters(): void {
    const w = this.offerWaiters;
    this.offerWaiters = [];
    for (const r of w) r();
  }

  // ------------------------------------------------------------ requests we send (§12.2.1)

  /** End the dialog with BYE (idempotent). Resolves once the BYE got a final response or timed out. */
  bye(reason: DialogEndReason = 'local-bye', extraHeaders: Record<string, string> = {}): Promise<SipResponse | 'timeout' | undefined> {
    if (this.state === 'terminated') return Promise.resolve(undefined);
    if (this.state === 'waiting-ack') {
      // §15: no BYE before the ACK for our 2xx arrives or its wait times out.
      return new Promise((resolve) => {
        this.pendingBye = { resolve, reason, headers: extraHeaders };
      });
    }
    this.end(reason);
    return this.request('BYE', extraHeaders);
  }

  private end(reason: DialogEndReason, request?: SipRequest): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.stopRetransmit();
    this.timer.stop();
    this.wakeOfferWaiters();
    const bye = this.pendingBye;
    this.pendingBye = undefined;
    bye?.resolve(undefined);
    this.emit('terminated', reason, request);
  }

  /**
   * Send an in-dialog request (§12.2.1.1): BYE, re-INVITE, UPDATE, INFO, NOTIFY, ... Resolves with
   * the final response or 'timeout'. A body is `application/sdp` unless `extra` has a
   * Content-Type. INVITE and UPDATE carry our Contact (target refresh, §12.2.1.1) unless given;
   * every 2xx to an INVITE, retransmissions included, is ACKed here (§13.2.2.4), a 2xx Contact
   * becomes the remote target.
   */
  async request(method: string, extra: Record<string, string> = {}, body?: string): Promise<SipResponse | 'timeout'> {
    const req = this.buildRequest(method, extra, body);
    let dest: Destination;
    try {
      dest = await this.hop();
    } catch (e) {
      this.log.warn({ callId: this.callId, err: (e as Error).message, method }, 'cannot resolve next hop');
      return 'timeout';
    }
    return new Promise((resolve) => {
      this.init.endpoint.request(req, dest, {
        onResponse: (res) => {
          if (res.status < 200) return;
          if (res.status < 300 && (method === 'INVITE' || method === 'UPDATE')) {
            const contact = res.headers.get('Contact');
            if (contact) this.d.remoteTarget = parseNameAddr(contact).uri;
          }
          if (res.status < 300 && method === 'INVITE') this.receive2xx(res);
          resolve(res);
        },
        onTimeout: () => resolve('timeout'),
      });
    });
  }

  /** The next hop of our requests: the owner's route, else §8.1.2. */
  private hop(): Promise<Destination> {
    const own = this.init.route?.(this.d);
    return own ? Promise.resolve(own) : nextHop(this.d, this.init.flow);
  }

  private buildRequest(method: string, extra: Record<string, string>, body?: string): SipRequest {
    const { uri, headers: h } = dialogHeaders(this.d, this.init.ownRoute);
    // §12.2.1.1: the local CSeq grows by one; a UAS dialog starts it at random.
    this.d.localSeq = this.d.localSeq === undefined ? 1 + Math.floor(Math.random() * 10_000) : this.d.localSeq + 1;
    h.add('CSeq', `${this.d.localSeq} ${method}`);
    const all: Record<string, string> = { ...this.init.commonHeaders, ...extra };
    if ((method === 'INVITE' || method === 'UPDATE') && !Object.keys(all).some((k) => k.toLowerCase() === 'contact')) all['Contact'] = this.init.localContact;
    for (const [k, v] of Object.entries(all)) if (k !== 'Allow' || method !== 'BYE') h.add(k, v);
    if (body && !h.has('Content-Type')) h.add('Content-Type', 'application/sdp');
    return newRequest(method, uri, h, body ? Buffer.from(body) : Buffer.alloc(0));
  }

  /**
   * A 2xx to an INVITE we sent in this dialog, first or retransmitted (also after its client
   * transaction ended, RFC 6026 §8.4, routed here by the UA): ACK it, with the same ACK each time
   * (§13.2.2.4). 2xx for older INVITEs are ignored.
   */
  receive2xx(res: SipResponse): void {
    if (this.state === 'terminated' && this.lastAck === undefined) return;
    const seq = parseCSeq(res.headers.get('CSeq')!).seq;
    if (this.lastAck && this.lastAck.seq > seq) return;
    if (this.lastAck?.seq !== seq) {
      const ack = buildAck(this.d, seq, this.init.ownRoute);
      const dest = this.hop();
      this.lastAck = { seq, req: ack, dest };
      void dest.then(
        (to) => stampVia(ack, to.transport, this.init.endpoint.opts.advertisedHost, this.init.endpoint.port),
        () => undefined,
      );
    }
    const { req, dest } = this.lastAck;
    void dest.then(
      (to) => this.init.endpoint.sendStateless(req, to),
      (e: Error) => this.log.warn({ callId: this.callId, err: e.message }, 'cannot resolve next hop for ACK'),
    );
  }
}
