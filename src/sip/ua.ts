/**
 * UA core for a UAS (RFC 3261 §8.2, §12-§15): the transaction user of one endpoint. It answers
 * what needs no policy (OPTIONS, CANCEL, unknown methods, requests outside any dialog), checks an
 * INVITE for protocol problems (§8.2.2: 416, 420; RFC 4028: 422; merged requests: 482) and hands
 * the rest to its owner as an IncomingInvite, which the owner accepts or rejects.
 */
import type { Logger } from 'pino';
import { Dialog, dialogId } from './dialog.js';
import type { ServerTransaction, SipEndpoint, TransactionUser } from './endpoint.js';
import { Emitter } from './emitter.js';
import { parseCSeq, parseNameAddr, parseUri, tagOf } from './grammar.js';
import type { SipRequest, SipResponse } from './message.js';
import { makeResponse, newTag } from './response.js';
import { negotiate, responseHeaders, type Negotiation, type SessionTimerConfig } from './session-timer.js';
import { InviteServerTransaction } from './transaction/server-invite.js';
import { isWebSocket, type Flow } from './transport/types.js';

/** Methods we implement; anything else known to SIP is 405, anything unknown 501 (§8.2.1). */
export const ALLOWED = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK'];
const KNOWN = new Set([...ALLOWED, 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);
const SUPPORTED = ['timer'];

export interface UaOptions {
  userAgent: string;
  sessionTimers: SessionTimerConfig;
  logger: Logger;
}

export interface UaEvents {
  invite(inv: IncomingInvite): void;
}

/**
 * Who answers REGISTER (RFC 3261 §10.3). The UA core has no policy of its own for it: without a
 * handler REGISTER is 405. The handler must answer `tx` exactly once.
 */
export interface RegisterHandler {
  register(req: SipRequest, tx: ServerTransaction, flow: Flow): void;
}

export class UserAgent extends Emitter<UaEvents> implements TransactionUser {
  readonly dialogs = new Map<string, Dialog>();
  /** Pending INVITEs by the key that a CANCEL can find (§9.2). */
  private pending = new Map<InviteServerTransaction, IncomingInvite>();
  /** Call-ID|From tag|CSeq of INVITEs in progress, to spot merged requests (§8.2.2.2). */
  private inProgress = new Map<string, InviteServerTransaction>();
  readonly common: Record<string, string>;
  private registrar?: RegisterHandler;

  constructor(
    readonly endpoint: SipEndpoint,
    readonly opts: UaOptions,
  ) {
    super();
    this.common = { Allow: ALLOWED.join(', '), Supported: SUPPORTED.join(', '), 'User-Agent': opts.userAgent };
    endpoint.setTransactionUser(this);
  }

  /** Route REGISTER to `handler` (undefined: back to 405). Allow then lists REGISTER (§20.5). */
  setRegistrar(handler: RegisterHandler | undefined): void {
    this.registrar = handler;
    this.common['Allow'] = (handler ? [...ALLOWED, 'REGISTER'] : ALLOWED).join(', ');
  }

  request(req: SipRequest, tx: ServerTransaction, flow: Flow): void {
    const reply = (status: number, reason?: string, extra?: Record<string, string>): void =>
      tx.respond(makeResponse(req, status, reason, newTag(), extra));
    if (req.method === 'CANCEL') return this.cancel(req, tx);
    const toTag = tagOf(req.headers.get('To'));
    const d = toTag === undefined ? undefined : this.dialogs.get(dialogId(req.headers.get('Call-ID')!, toTag, tagOf(req.headers.get('From')) ?? ''));
    const refusal = this.protocolChecks(req, d !== undefined);
    if (refusal) return reply(refusal.status, refusal.reason, refusal.headers);
    if (toTag !== undefined) {
      if (d) return d.receive(req, tx);
      // §12.2.2: a request for a dialog we do not know.
      if (req.method === 'OPTIONS') return reply(200, undefined, { ...this.common, Accept: 'application/sdp' });
      return reply(481, 'No such dialog');
    }
    switch (req.method) {
      case 'INVITE':
        return this.invite(req, tx as InviteServerTransaction, flow, reply);
      case 'OPTIONS':
        // Carriers' keep-alive pings (and capability queries, §11.2).
        return reply(200, undefined, { ...this.common, Accept: 'application/sdp' });
      case 'REGISTER':
        return this.registrar!.register(req, tx, flow);
      default:
        // BYE, INFO, UPDATE, PRACK outside a dialog.
        return reply(481, 'No dialog for this request');
    }
  }

  /**
   * The UAS checks of RFC 3261 §8.2, in its order, for every request but CANCEL (and ACK, which
   * never reaches here): method (§8.2.1: 501 unknown; 405 not allowed, except inside a dialog,
   * whose usages decide: the NOTIFY of a REFER we sent, RFC 3515 §2.4.4), Request-URI scheme
   * (§8.2.2.1: 416, OPTIONS included, RFC 4475 §3.3.2-3), Require (§8.2.2.3: 420 with Unsupported,
   * RFC 4475 §3.3.5), and for an INVITE whose answer carries SDP, Accept (§8.2.3, §21.4.7: 406,
   * RFC 4475 §3.3.15). Null: the request may proceed.
   */
  private protocolChecks(req: SipRequest, inDialog: boolean): { status: number; reason: string; headers?: Record<string, string> } | null {
    const allow = { Allow: this.common['Allow']! };
    if (!ALLOWED.includes(req.method) && !(req.method === 'REGISTER' && this.registrar)) {
      if (KNOWN.has(req.method)) {
        if (!inDialog) return { status: 405, reason: `${req.method} not supported here`, headers: allow };
      } else return { status: 501, reason: `Method ${req.method.slice(0, 20)} not implemented`, headers: allow };
    }
    let scheme: string;
    try {
      scheme = parseUri(req.uri).scheme.toLowerCase();
    } catch {
      return { status: 400, reason: 'Invalid Request-URI' };
    }
    if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
      return { status: 416, reason: `URI scheme ${scheme.slice(0, 40)} not supported` };
    }
    const unsupported = req.headers.getAll('Require').filter((t) => !SUPPORTED.includes(t.toLowerCase()));
    if (unsupported.length) return { status: 420, reason: 'Bad Extension', headers: { Unsupported: unsupported.join(', ') } };
    if (req.method === 'INVITE' && !acceptsSdp(req)) {
      return { status: 406, reason: 'Not Acceptable: our answer is application/sdp', headers: { Accept: 'application/sdp' } };
    }
    return null;
  }

  ack(req: SipRequest): void {
    const d = this.dialogs.get(dialogId(req.headers.get('Call-ID')!, tagOf(req.headers.get('To')) ?? '', tagOf(req.headers.get('From')) ?? ''));
    d?.receiveAck(req);
  }

  /**
   * A 2xx retransmission after our INVITE client transaction ended (RFC 6026 §8.4): the UAC dialog
   * it belongs to (From tag ours, To tag theirs) ACKs it again (§13.2.2.4).
   */
  strayResponse(res: SipResponse): void {
    const d = this.dialogs.get(dialogId(res.headers.get('Call-ID')!, tagOf(res.headers.get('From')) ?? '', tagOf(res.headers.get('To')) ?? ''));
    d?.receive2xx(res);
  }

  /** §9.2: 200 to the CANCEL; if the INVITE is still pending, 487 to it and tell the owner. */
  private cancel(req: SipRequest, tx: ServerTransaction): void {
    const inv = this.endpoint.findInviteFor(req);
    const incoming = inv ? this.pending.get(inv) : undefined;
    if (!inv) {
      tx.respond(makeResponse(req, 481, 'No transaction to cancel', newTag()));
      return;
    }
    tx.respond(makeResponse(req, 200, undefined, incoming?.localTag ?? newTag()));
    if (incoming && incoming.state === 'pending') incoming.cancelled();
  }

  private invite(req: SipRequest, tx: InviteServerTransaction, flow: Flow, reply: (s: number, r?: string, e?: Record<string, string>) => void): void {
    const uri = parseUri(req.uri);
    const merged = `${req.headers.get('Call-ID')}|${tagOf(req.headers.get('From'))}|${parseCSeq(req.headers.get('CSeq')!).seq}`;
    const other = this.inProgress.get(merged);
    if (other && other !== tx && other.state === 'proceeding') return reply(482, 'Loop Detected (merged request)');
    const timer = negotiate(req, this.opts.sessionTimers);
    // A malformed Session-Expires is the peer's error (RFC 4028 §4 grammar): 400, never a throw.
    if (timer.kind === 'invalid') return reply(400, timer.reason);
    if (timer.kind === 'reject') return reply(422, 'Session interval too small', { 'Min-SE': String(timer.minSE) });
    if (req.body.length > 0) {
      const ct = (req.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/sdp') return reply(415, `Unsupported body type ${ct.slice(0, 40)}`, { Accept: 'application/sdp' });
    }
    // §17.2.1: 100 Trying at once, so the peer stops retransmitting while we decide.
    tx.respond(makeResponse(req, 100));
    const incoming = new IncomingInvite(this, req, tx, flow, uri.user ?? '', timer);
    this.pending.set(tx, incoming);
    this.inProgress.set(merged, tx);
    incoming.onSettled = () => {
      this.pending.delete(tx);
      if (this.inProgress.get(merged) === tx) this.inProgress.delete(merged);
    };
    this.emit('invite', incoming);
  }

  /** Contact for our responses: identifies the agent (user) and the transport (§8.1.1.8). */
  contactFor(user: string, flow: Flow): string {
    const host = this.endpoint.opts.advertisedHost;
    const h = host.includes(':') ? `[${host}]` : host;
    const u = user ? `${user}@` : '';
    // Over WebSocket our port is the HTTP port the client connected to (RFC 7118 §5).
    const port = isWebSocket(flow.transport) ? flow.local.port : this.endpoint.port;
    return `<sip:${u}${h}:${port}${flow.transport === 'udp' ? '' : `;transport=${flow.transport}`}>`;
  }
}

export type InviteState = 'pending' | 'accepted' | 'rejected' | 'cancelled';

/** A new INVITE waiting for its owner's decision. Exactly one of accept/reject/cancel happens. */
export class IncomingInvite {
  readonly localTag = newTag();
  readonly callId: string;
  state: InviteState = 'pending';
  onSettled?: () => void;
  /** Called when the caller cancels before we answered (487 already sent). */
  onCancel?: () => void;

  constructor(
    private readonly ua: UserAgent,
    readonly request: SipRequest,
    private readonly tx: InviteServerTransaction,
    readonly flow: Flow,
    /** Request-URI user part (the dialled number), undecoded. */
    readonly user: string,
    private readonly timer: Negotiation,
  ) {
    this.callId = request.headers.get('Call-ID')!;
  }

  get offer(): string | undefined {
    return this.request.body.length ? this.request.body.toString('utf8') : undefined;
  }

  get fromUri(): string {
    return parseNameAddr(this.request.headers.get('From')!).uri;
  }

  ring(): void {
    if (this.state !== 'pending') return;
    this.tx.respond(makeResponse(this.request, 180, undefined, this.localTag, { Contact: this.ua.contactFor(this.user, this.flow) }));
  }

  reject(status: number, reason: string, extra: Record<string, string> = {}): void {
    if (this.state !== 'pending') return;
    this.state = 'rejected';
    this.tx.respond(makeResponse(this.request, status, reason, this.localTag, { ...this.ua.common, ...extra }));
    this.onSettled?.();
  }

  /** Answer 200 with `sdp`; returns the confirmed-to-be dialog. §12.1.1: Record-Route is copied. */
  accept(sdp: string, logger: Logger): Dialog {
    if (this.state !== 'pending') throw new Error(`cannot accept an INVITE that is ${this.state}`);
    this.state = 'accepted';
    const contact = this.ua.contactFor(this.user, this.flow);
    const extra: Record<string, string | string[]> = { ...this.ua.common, Contact: contact, 'Content-Type': 'application/sdp' };
    const rr = this.request.headers.lines('Record-Route');
    if (rr.length) extra['Record-Route'] = rr;
    if (this.timer.kind === 'use') Object.assign(extra, responseHeaders(this.timer));
    const ok = makeResponse(this.request, 200, undefined, this.localTag, extra, Buffer.from(sdp));
    const dialog = new Dialog({
      endpoint: this.ua.endpoint,
      invite: this.request,
      flow: this.flow,
      localTag: this.localTag,
      localContact: contact,
      localSdp: sdp,
      okResponse: ok,
      sessionTimers: this.ua.opts.sessionTimers,
      commonHeaders: this.ua.common,
      logger,
    });
    this.ua.dialogs.set(dialog.id, dialog);
    dialog.on('terminated', () => this.ua.dialogs.delete(dialog.id));
    this.tx.respond(ok);
    this.onSettled?.();
    return dialog;
  }

  /** Called by the UA on CANCEL (§9.2): 487 to the INVITE. */
  cancelled(): void {
    if (this.state !== 'pending') return;
    this.state = 'cancelled';
    this.tx.respond(makeResponse(this.request, 487, 'Request Terminated', this.localTag, this.ua.common));
    this.onSettled?.();
    this.onCancel?.();
  }
}

/**
 * Whether the request's Accept allows application/sdp (§20.1: absent means application/sdp; an
 * empty Accept accepts no body, and an answer needs one; the wildcards match, q=0 refuses).
 */
export function acceptsSdp(req: SipRequest): boolean {
  const lines = req.headers.lines('Accept');
  if (lines.length === 0) return true;
  const ranges = req.headers.getAll('Accept');
  if (ranges.length === 0) return false;
  return ranges.some((r) => {
    const [type, ...params] = r.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => /^q\s*=/.test(p));
    if (q && Number(q.split('=')[1]) === 0) return false;
    return type === 'application/sdp' || type === 'application/*' || type === '*/*';
  });
}
