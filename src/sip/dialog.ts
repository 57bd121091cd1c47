/**
 * A dialog created by answering an INVITE (RFC 3261 §12.1.1): route set from Record-Route in
 * order, remote target from Contact, remote CSeq from the INVITE. In-dialog requests are checked
 * (§12.2.2: CSeq must grow) and our requests follow the route set (§12.2.1.1, loose and strict).
 * The 2xx is retransmitted until the ACK arrives (§13.3.1.4); without one for 64*T1 the dialog
 * ends with a BYE. A BYE we must send before the ACK waits for it (§15).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { TimerHandle } from './clock.js';
import { Emitter } from './emitter.js';
import type { SipEndpoint } from './endpoint.js';
import { parseCSeq, parseNameAddr, parseUri } from './grammar.js';
import { newRequest, SipHeaders, type SipRequest, type SipResponse } from './message.js';
import { makeResponse, newBranch } from './response.js';
import { negotiate, expiryMs, refreshMs, responseHeaders, type SessionTimerConfig } from './session-timer.js';
import type { ServerTransaction } from './endpoint.js';
import type { Destination, Flow, TransportName } from './transport/types.js';

export type DialogEndReason = 'remote-bye' | 'local-bye' | 'ack-timeout' | 'session-expired' | 'transport-error' | 'request-timeout';

export interface DialogEvents {
  confirmed(): void;
  terminated(reason: DialogEndReason): void;
}

/** What the dialog asks its owner (the call) for. */
export interface DialogHandler {
  /** A re-INVITE or UPDATE with (or without) an offer: return the answer SDP or a refusal. */
  offer(sdp: string | undefined, req: SipRequest): { sdp: string } | { status: number; reason: string };
  /** An INFO request: return the status to answer with. */
  info(req: SipRequest): { status: number; reason?: string };
}

export interface DialogInit {
  endpoint: SipEndpoint;
  invite: SipRequest;
  flow: Flow;
  localTag: string;
  localContact: string;
  /** Our answer; kept so a refresh re-INVITE can re-offer the same session. */
  localSdp: string;
  okResponse: SipResponse;
  sessionTimers: SessionTimerConfig;
  commonHeaders: Record<string, string>;
  logger: Logger;
}

type State = 'waiting-ack' | 'confirmed' | 'terminated';

export class Dialog extends Emitter<DialogEvents> {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly id: string;
  state: State = 'waiting-ack';
  handler?: DialogHandler;
  private readonly localUri: string;
  private readonly remoteUri: string;
  private remoteTarget: string;
  private readonly routeSet: string[];
  private remoteSeq: number;
  private localSeq = 0;
  private inviteSeq: number;
  private ok: SipResponse;
  private retransmit?: TimerHandle;
  private ackTimer?: TimerHandle;
  private sessionTimer?: TimerHandle;
  private weRefresh = false;
  private interval = 0;
  private pendingBye?: { resolve: () => void; reason: DialogEndReason; headers: Record<string, string> };
  private localSdp: string;
  private readonly peerAllowsUpdate: boolean;

  constructor(private readonly init: DialogInit) {
    super();
    const inv = init.invite;
    this.callId = inv.headers.get('Call-ID')!;
    this.localTag = init.localTag;
    this.remoteTag = parseNameAddr(inv.headers.get('From')!).params['tag'] ?? '';
    this.id = dialogId(this.callId, this.localTag, this.remoteTag);
    this.localUri = parseNameAddr(inv.headers.get('To')!).uri;
    this.remoteUri = parseNameAddr(inv.headers.get('From')!).uri;
    const contact = inv.headers.get('Contact');
    this.remoteTarget = contact ? parseNameAddr(contact).uri : this.remoteUri;
    this.routeSet = inv.headers.getAll('Record-Route');
    this.remoteSeq = this.inviteSeq = parseCSeq(inv.headers.get('CSeq')!).seq;
    this.ok = init.okResponse;
    this.localSdp = init.localSdp;
    this.peerAllowsUpdate = inv.headers.getAll('Allow').some((m) => m.toUpperCase() === 'UPDATE');
    this.applySessionTimer(inv);
    this.startRetransmit();
  }

  get log(): Logger {
    return this.init.logger;
  }

  // ------------------------------------------------------------ 2xx reliability (§13.3.1.4)

  private startRetransmit(): void {
    const { clock, timers } = this.init.endpoint;
    this.stopRetransmit();
    if (this.init.flow.transport === 'udp') {
      let interval = timers.T1;
      const tick = (): void => {
        this.init.endpoint.sendResponse(this.ok, this.init.flow);
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
    void this.bye('ack-timeout');
  }

  /** The ACK for our 2xx (a new transaction, routed here by the UA). */
  receiveAck(req: SipRequest): void {
    const seq = parseCSeq(req.headers.get('CSeq')!).seq;
    if (this.state !== 'waiting-ack' || seq !== this.inviteSeq) return;
    this.stopRetransmit();
    this.state = 'confirmed';
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
    if (seq <= this.remoteSeq) return respond(500, 'CSeq out of order', { 'Retry-After': '1' });
    this.remoteSeq = seq;
    switch (req.method) {
      case 'BYE':
        respond(200);
        this.end('remote-bye');
        return;
      case 'INVITE':
      case 'UPDATE':
        return this.receiveOffer(req, tx, respond);
      case 'INFO': {
        const r = this.handler?.info(req) ?? { status: 200 };
        return respond(r.status, r.reason);
      }
      case 'OPTIONS':
        return respond(200, undefined, { Accept: 'application/sdp' });
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
    const hasSdp = req.body.length > 0;
    const result = this.handler
      ? this.handler.offer(hasSdp ? req.body.toString('utf8') : undefined, req)
      : { sdp: this.localSdp };
    if ('status' in result) return respond(result.status, result.reason);
    this.localSdp = result.sdp;
    this.applySessionTimer(req);
    // §12.2: a target-refresh request's 2xx carries our Contact.
    const headers: Record<string, string> = { ...this.init.commonHeaders, Contact: this.init.localContact };
    if (n.kind === 'use') Object.assign(headers, responseHeaders(n));
    const body = hasSdp || req.method === 'INVITE' ? result.sdp : undefined;
    if (body) headers['Content-Type'] = 'application/sdp';
    const res = makeResponse(req, 200, undefined, this.localTag, headers, body ? Buffer.from(body) : undefined);
    tx.respond(res);
    if (req.method === 'INVITE') {
      // A re-INVITE's 2xx needs its own ACK, with the same reliability rules as the first one.
      this.ok = res;
      this.inviteSeq = parseCSeq(req.headers.get('CSeq')!).seq;
      this.state = 'waiting-ack';
      this.startRetransmit();
    }
  }

  // ------------------------------------------------------------ session timers (RFC 4028)

  private applySessionTimer(req: SipRequest): void {
    this.sessionTimer?.cancel();
    this.sessionTimer = undefined;
    const n = negotiate(req, this.init.sessionTimers);
    if (n.kind !== 'use') return;
    this.interval = n.timer.interval;
    this.weRefresh = n.timer.refresher === 'uas';
    this.armSessionTimer();
  }

  private armSessionTimer(): void {
    const t = { interval: this.interval, refresher: this.weRefresh ? ('uas' as const) : ('uac' as const) };
    const { clock } = this.init.endpoint;
    if (this.weRefresh) this.sessionTimer = clock.set(refreshMs(t), () => void this.refresh());
    else
      this.sessionTimer = clock.set(expiryMs(t), () => {
        this.log.warn({ callId: this.callId, interval: this.interval }, 'session timer expired without refresh: sending BYE');
        void this.bye('session-expired');
      });
  }

  /** §7.2/§8: refresh with UPDATE when the peer allows it, else re-INVITE with our current SDP. */
  private async refresh(): Promise<void> {
    if (this.state === 'terminated') return;
    const method = this.peerAllowsUpdate ? 'UPDATE' : 'INVITE';
    const headers: Record<string, string> = {
      'Session-Expires': `${this.interval};refresher=uac`,
      Supported: 'timer',
      Contact: this.init.localContact,
    };
    const body = method === 'INVITE' ? this.localSdp : undefined;
    const res = await this.request(method, headers, body);
    if (res === 'timeout' || res.status === 408 || res.status === 481) {
      void this.bye('request-timeout');
      return;
    }
    if (res.status >= 200 && res.status < 300) {
      if (method === 'INVITE') this.sendAck(res);
      const se = res.headers.get('Session-Expires');
      const m = se ? /^\s*(\d+)\s*(?:;\s*refresher=(uac|uas))?/i.exec(se) : null;
      if (m) {
        this.interval = Number(m[1]);
        this.weRefresh = (m[2] ?? 'uac').toLowerCase() === 'uac';
      }
    }
    if ((this.state as State) !== 'terminated') this.armSessionTimer();
  }

  // ------------------------------------------------------------ requests we send (§12.2.1)

  /** End the dialog with BYE (idempotent). Resolves once the BYE got a final response or timed out. */
  bye(reason: DialogEndReason = 'local-bye', extraHeaders: Record<string, string> = {}): Promise<void> {
    if (this.state === 'terminated') return Promise.resolve();
    if (this.state === 'waiting-ack') {
      // §15: no BYE before the ACK for our 2xx arrives or its wait times out.
      return new Promise((resolve) => {
        this.pendingBye = { resolve, reason, headers: extraHeaders };
      });
    }
    this.end(reason);
    return this.request('BYE', extraHeaders).then(() => undefined);
  }

  private end(reason: DialogEndReason): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.stopRetransmit();
    this.sessionTimer?.cancel();
    const bye = this.pendingBye;
    this.pendingBye = undefined;
    bye?.resolve();
    this.emit('terminated', reason);
  }

  /** Send an in-dialog request; resolves with the final response or 'timeout'. */
  async request(method: string, extra: Record<string, string> = {}, body?: string): Promise<SipResponse | 'timeout'> {
    const req = this.buildRequest(method, extra, body);
    let dest: Destination;
    try {
      dest = await this.nextHop();
    } catch (e) {
      this.log.warn({ callId: this.callId, err: (e as Error).message, method }, 'cannot resolve next hop');
      return 'timeout';
    }
    return new Promise((resolve) => {
      this.init.endpoint.request(req, dest, {
        onResponse: (res) => {
          if (res.status >= 200) resolve(res);
        },
        onTimeout: () => resolve('timeout'),
      });
    });
  }

  private buildRequest(method: string, extra: Record<string, string>, body?: string): SipRequest {
    const h = new SipHeaders();
    let uri = this.remoteTarget;
    const routes = [...this.routeSet];
    const first = routes[0];
    if (first !== undefined && !('lr' in parseUri(parseNameAddr(first).uri).params)) {
      // §12.2.1.1 strict routing: the first route becomes the Request-URI, the target goes last.
      uri = parseNameAddr(first).uri;
      routes.shift();
      routes.push(`<${this.remoteTarget}>`);
    }
    for (const r of routes) h.add('Route', r);
    h.add('From', `<${this.localUri}>;tag=${this.localTag}`);
    h.add('To', `<${this.remoteUri}>;tag=${this.remoteTag}`);
    h.add('Call-ID', this.callId);
    this.localSeq = this.localSeq === 0 ? 1 + Math.floor(Math.random() * 10_000) : this.localSeq + 1;
    h.add('CSeq', `${this.localSeq} ${method}`);
    for (const [k, v] of Object.entries({ ...this.init.commonHeaders, ...extra })) if (k !== 'Allow' || method !== 'BYE') h.add(k, v);
    if (body) h.add('Content-Type', 'application/sdp');
    return newRequest(method, uri, h, body ? Buffer.from(body) : Buffer.alloc(0));
  }

  private sendAck(res: SipResponse): void {
    const cseq = parseCSeq(res.headers.get('CSeq')!).seq;
    const h = new SipHeaders();
    for (const r of this.routeSet) h.add('Route', r);
    h.add('From', `<${this.localUri}>;tag=${this.localTag}`);
    h.add('To', res.headers.get('To')!);
    h.add('Call-ID', this.callId);
    h.add('CSeq', `${cseq} ACK`);
    const ack = newRequest('ACK', this.remoteTarget, h);
    void this.nextHop().then(
      (dest) => {
        ack.headers.prepend('Via', `SIP/2.0/${dest.transport.toUpperCase()} ${this.init.endpoint.opts.advertisedHost}:${this.init.endpoint.port};branch=${newBranch()};rport`);
        ack.headers.add('Max-Forwards', '70');
        this.init.endpoint.sendStateless(ack, dest);
      },
      () => undefined,
    );
  }

  /**
   * Next hop per §8.1.2 / RFC 3263 §4 (numeric hosts or A/AAAA lookup; no NAPTR/SRV): the first
   * route when there is a route set (loose or strict, it is the first element either way), else
   * the remote target.
   */
  private async nextHop(): Promise<Destination> {
    const first = this.routeSet[0];
    const target = parseUri(first !== undefined ? parseNameAddr(first).uri : this.remoteTarget);
    const tp = target.params['transport']?.toLowerCase();
    const transport: TransportName = tp === 'tcp' || tp === 'udp' ? tp : this.init.flow.transport;
    const address = isIP(target.host) ? target.host : (await lookup(target.host)).address;
    const dest: Destination = { transport, address, port: target.port ?? 5060 };
    // Reuse the connection the peer opened when the next hop is that peer (flow reuse).
    if (transport === 'tcp' && this.init.flow.connectionId !== undefined && address === this.init.flow.remote.address) {
      dest.connectionId = this.init.flow.connectionId;
    }
    return dest;
  }
}

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}
