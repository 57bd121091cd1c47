/**
 * The LiveVox simulator's call placer: it conferences a "customer" into the gateway the way
 * LiveVox conferences a virtual agent in, so the product can be tried without a LiveVox account
 * and benchmarked at high call rates.
 *
 * A UAC per RFC 3261 over one UDP socket shared by every call (plus one RTP socket per call):
 * - INVITE `sip:<899 number>@<gateway>` shaped like LiveVox's (../shared/vendors/livevox.md):
 *   three Record-Route entries, the first being the placer itself (so the gateway's in-dialog
 *   requests come back here) and two fictitious loopback proxies on closed ports, plus
 *   X-transaction-id, Session-ID, X-agent-login-id and DNIS; SDP offer PCMU + telephone-event.
 * - INVITE client transaction (§17.1.1): Timer A retransmissions until a response, Timer B;
 *   ACK for a non-2xx on the INVITE's branch (§17.1.1.3), ACK for a 2xx as a new transaction
 *   (§13.2.2.4), re-sent for every retransmitted 2xx; CANCEL (§9.1) when the customer hangs up
 *   while it rings.
 * - The dialog (§12.1.2): route set = the 2xx's Record-Route reversed, remote target = its
 *   Contact; in-dialog requests from the gateway answered (BYE, re-INVITE with hold, INFO,
 *   OPTIONS, NOTIFY, REFER -> 202 + NOTIFY, anything else 405), retransmissions answered again.
 * - RTP paced by one shared 20 ms clock for all calls (./placer-media.ts).
 *
 * Next hop of our in-dialog requests: every entry of the route set is the placer's own (itself
 * and the two fictitious proxies it stands in for), so after those simulated hops the request is
 * delivered to the gateway's Contact, with the Route headers the route set gives (§12.2.1.1).
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import pino, { type Logger } from 'pino';
import { parseCSeq, parseNameAddr, tagOf } from '../../../sip/grammar.js';
import { newRequest, SipHeaders, type SipRequest, type SipResponse } from '../../../sip/message.js';
import { canAnswer, parseMessage, SipParseError, validate } from '../../../sip/parser.js';
import { serialize } from '../../../sip/serializer.js';
import { MediaClock, RtpStream, silenceSource, toneSource, type AudioSource } from './placer-media.js';
import { answerDirection, buildSdp, DEFAULT_TELEPHONE_EVENT_PT, maySend, parseSdp, PT_PCMU, type Direction, type SdpSummary } from './placer-sdp.js';
import {
  DEFAULT_TIMERS,
  hasLr,
  makeResponse,
  newBranch,
  NonInviteTransactions,
  responseDest,
  routeKey,
  token,
  topBranch,
  uriDest,
  type Dest,
  type SipTimers,
} from './placer-sip.js';
import { guard } from '../../../util/faults.js';

export interface PlacerOptions {
  /** Address the SIP and RTP sockets bind to and that our headers advertise (IPv4). Default 127.0.0.1. */
  host?: string;
  /** SIP UDP port; 0 (the default) = an ephemeral port. */
  sipPort?: number;
  gateway: { host: string; port: number };
  logger?: Logger;
  /** Seconds of decoded gateway audio kept per call for receivedSamples() (default 4; 0 = none). */
  keepReceivedSeconds?: number;
  /** RFC 3261 T1/T2 in ms (default 500/4000); Timer A/B/E/F derive from them. */
  timers?: { t1?: number; t2?: number };
}

export interface PlaceCallOptions {
  /** The agent's 899 number, e.g. '+18990000001': the Request-URI user. */
  number: string;
  transactionId: string;
  sessionId: string;
  agentLoginId?: string;
  dnis?: string;
  /** The customer's number (E.164), the From user. Default +13125550100. */
  caller?: string;
  /** RTP the customer sends, paced 20 ms PCMU. Default 'silence'. */
  audio?: { toneHz: number; amplitude?: number } | 'silence' | 'none';
  /** The customer hangs up (BYE) this long after the answer. Default: never. */
  maxDurationMs?: number;
}

export type PlacedCallState = 'inviting' | 'answered' | 'ended' | 'failed';

export interface CallAnswer {
  status: number;
  reason: string;
}

export interface CallEnd {
  by: 'gateway' | 'customer' | 'failed';
  /** Gateway BYE: its Reason header; REFER: 'transferred'; failed: '<status> <reason>'. */
  reason?: string;
  /** The Refer-To URI when the gateway transferred the call. */
  referTo?: string;
}

export interface PlacedCall {
  readonly callId: string;
  /** The LiveVox call this leg belongs to (X-transaction-id). */
  readonly transactionId: string;
  readonly state: PlacedCallState;
  /** Resolves on the 2xx (once ACKed); rejects with a CallFailedError on a non-2xx final or a timeout. */
  readonly answered: Promise<CallAnswer>;
  /** Always resolves, once, when the call is over. */
  readonly ended: Promise<CallEnd>;
  /** Customer hangup: BYE once answered (CANCEL while ringing). Idempotent; resolves on the final response or Timer F. */
  hangup(): Promise<void>;
  readonly rtp: { sent: number; received: number; localPort: number };
  /** Decoded PCMU received from the gateway (the most recent keepReceivedSeconds). */
  receivedSamples(): Int16Array;
  /** DTMF digits the gateway sent (RFC 4733), in order. */
  receivedDigits(): string;
}

export interface PlacerStats {
  placed: number;
  answered: number;
  failed: number;
  endedByGateway: number;
  endedByCustomer: number;
  /** Customer BYEs (or CANCELs) that got no 2xx: a non-2xx final response or Timer F. */
  hangupErrors: number;
}

/** Why `answered` rejected: the final status and reason (0 for a local failure). */
export class CallFailedError extends Error {
  override readonly name = 'CallFailedError';
  constructor(
    readonly status: number,
    readonly reason: string,
    detail?: string,
  ) {
    super(`${status ? `${status} ${reason}` : reason}${detail ? ` (${detail})` : ''}`);
  }
}

const USER_AGENT = 'vagw-livevox-simulator';
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY';
const DEFAULT_CALLER = '+13125550100';
/** Fictitious LiveVox proxies on the dialog's path: loopback addresses nothing listens on. */
const FICTITIOUS_PROXIES = ['<sip:127.0.0.2:5998;lr>', '<sip:127.0.0.3:5998;lr>'];
/** Responses remembered per call for retransmitted requests. */
const SERVED_CAP = 32;
const USER_RE = /^[A-Za-z0-9+\-_.!~*'()#]+$/;

export class CallPlacer {
  readonly stats: PlacerStats = { placed: 0, answered: 0, failed: 0, endedByGateway: 0, endedByCustomer: 0, hangupErrors: 0 };
  readonly host: string;
  readonly timers: SipTimers;
  /** Calls by Call-ID, live ones and, for 64*T1 after they end, the lingering ones. */
  private readonly calls = new Map<string, Call>();
  /** INVITE client transactions by `branch|INVITE` (kept while the call is known). */
  private readonly invites = new Map<string, Call>();
  private readonly lingering: { call: Call; until: number }[] = [];
  private lingerTimer?: NodeJS.Timeout;
  private live = 0;
  private closed = false;
  /** @internal */ readonly clock = new MediaClock();
  /** @internal */ readonly nonInvite: NonInviteTransactions;
  /** @internal */ readonly log: Logger;
  /** @internal */ readonly keepSamples: number;

  private constructor(
    readonly opts: PlacerOptions,
    private readonly sock: dgram.Socket,
    readonly sipPort: number,
  ) {
    this.host = opts.host ?? '127.0.0.1';
    this.timers = { t1: opts.timers?.t1 ?? DEFAULT_TIMERS.t1, t2: opts.timers?.t2 ?? DEFAULT_TIMERS.t2 };
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'livevox-placer' });
    this.keepSamples = Math.max(0, Math.round((opts.keepReceivedSeconds ?? 4) * 8000));
    this.nonInvite = new NonInviteTransactions((buf, dest) => this.send(buf, dest), this.timers);
    // The sandbox runs inside the gateway's process: its sockets are inside the fault boundary too.
    sock.on('message', guard('sandbox.placer.sip', (m: Buffer, rinfo: dgram.RemoteInfo) => this.receive(m, { address: rinfo.address, port: rinfo.port }), { log: this.log }));
  }

  static async start(opts: PlacerOptions): Promise<CallPlacer> {
    const host = opts.host ?? '127.0.0.1';
    if (!isIPv4(host)) throw new Error(`CallPlacer host must be an IPv4 address, got '${host}'`);
    if (!opts.gateway?.host || !Number.isInteger(opts.gateway.port) || opts.gateway.port < 1 || opts.gateway.port > 65535) {
      throw new Error('CallPlacer needs gateway { host, port }');
    }
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    sock.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(opts.sipPort ?? 0, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return new CallPlacer(opts, sock, sock.address().port);
  }

  /** Calls placed and not over yet (inviting or answered). */
  get active(): number {
    return this.live;
  }

  /** The call placed for a LiveVox call (by X-transaction-id), while it lasts. */
  find(transactionId: string): PlacedCall | undefined {
    for (const c of this.calls.values()) if (c.transactionId === transactionId) return c;
    return undefined;
  }

  get gateway(): Dest {
    return { address: this.opts.gateway.host, port: this.opts.gateway.port };
  }

  /** Our own Record-Route entry: in-dialog requests from the gateway come back here. */
  get selfRoute(): string {
    return `<sip:${this.host}:${this.sipPort};lr>`;
  }

  place(o: PlaceCallOptions): PlacedCall {
    if (this.closed) throw new Error('CallPlacer is closed');
    if (!o.number || !USER_RE.test(o.number)) throw new TypeError(`invalid agent number '${o.number}'`);
    const caller = o.caller ?? DEFAULT_CALLER;
    if (!USER_RE.test(caller)) throw new TypeError(`invalid caller '${caller}'`);
    if (!o.transactionId || !o.sessionId) throw new TypeError('transactionId and sessionId are required');
    const audio = o.audio ?? 'silence';
    if (typeof audio === 'object') {
      if (!(audio.toneHz > 0 && audio.toneHz < 4000)) throw new RangeError(`toneHz must be in (0, 4000), got ${audio.toneHz}`);
      if (audio.amplitude !== undefined && !(audio.amplitude >= 0 && audio.amplitude <= 32767)) throw new RangeError('amplitude must be 0..32767');
    }
    const source: AudioSource | null = audio === 'none' ? null : audio === 'silence' ? silenceSource : toneSource(audio.toneHz, audio.amplitude ?? 8000);
    const call = new Call(this, { ...o, caller }, source);
    this.calls.set(call.callId, call);
    this.invites.set(`${call.inviteBranch}|INVITE`, call);
    this.stats.placed++;
    this.live++;
    void call.start();
    return call;
  }

  /** Hang up what is still up (waiting at most `graceMs` for the answers), then release everything. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const up = [...this.calls.values()].filter((c) => c.state === 'inviting' || c.state === 'answered');
    if (up.length) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(up.map((c) => c.hangup())), new Promise((r) => (t = setTimeout(r, graceMs)))]);
      clearTimeout(t);
    }
    for (const c of this.calls.values()) c.dispose();
    this.calls.clear();
    this.invites.clear();
    this.lingering.length = 0;
    clearTimeout(this.lingerTimer);
    this.nonInvite.closeAll();
    this.clock.stop();
    await new Promise<void>((r) => this.sock.close(() => r()));
  }

  // ------------------------------------------------------------ used by calls

  /** @internal */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal */
  send(buf: Buffer, dest: Dest): void {
    if (this.closed && this.calls.size === 0) return;
    try {
      this.sock.send(buf, dest.port, dest.address);
    } catch {
      /* socket closed */
    }
  }

  /** @internal The call is over: its counters, then keep it 64*T1 for retransmissions. */
  callEnded(call: Call, end: CallEnd): void {
    this.live--;
    if (end.by === 'gateway') this.stats.endedByGateway++;
    else if (end.by === 'customer') this.stats.endedByCustomer++;
    else this.stats.failed++;
    if (this.closed) return;
    this.lingering.push({ call, until: performance.now() + 64 * this.timers.t1 });
    if (!this.lingerTimer) this.armLinger();
  }

  private armLinger(): void {
    const first = this.lingering[0];
    if (!first) {
      this.lingerTimer = undefined;
      return;
    }
    this.lingerTimer = setTimeout(() => {
      const now = performance.now();
      while (this.lingering.length && this.lingering[0]!.until <= now) {
        const { call } = this.lingering.shift()!;
        call.dispose();
        if (this.calls.get(call.callId) === call) this.calls.delete(call.callId);
        this.invites.delete(`${call.inviteBranch}|INVITE`);
      }
      this.armLinger();
    }, Math.max(10, first.until - performance.now() + 5));
    this.lingerTimer.unref();
  }

  // ------------------------------------------------------------ the SIP socket

  private receive(buf: Buffer, source: Dest): void {
    if (buf.length <= 4 && buf.toString().trim() === '') return; // keep-alive CRLFs
    let msg;
    try {
      msg = validate(parseMessage(buf));
    } catch (e) {
      if (e instanceof SipParseError && canAnswer(e.partial) && e.partial.method !== 'ACK') {
        this.send(serialize(makeResponse(e.partial, e.status, e.reason, token())), responseDest(e.partial, source));
      }
      this.log.debug({ err: (e as Error).message }, 'unparsable SIP message dropped');
      return;
    }
    if (msg.type === 'response') {
      const branch = topBranch(msg);
      const method = parseCSeq(msg.headers.get('CSeq')!).method;
      const key = `${branch}|${method}`;
      if (method === 'INVITE') this.invites.get(key)?.onInviteResponse(msg);
      else if (!this.nonInvite.onResponse(key, msg)) this.log.debug({ key, status: msg.status }, 'stray response dropped');
      return;
    }
    const call = this.calls.get(msg.headers.get('Call-ID')!);
    if (msg.method === 'ACK') {
      call?.onAck(msg);
      return;
    }
    if (call) return call.onRequest(msg, source);
    const dest = responseDest(msg, source);
    // Outside any call: keep-alive OPTIONS are fine, anything else names no dialog of ours.
    if (msg.method === 'OPTIONS' && tagOf(msg.headers.get('To')) === undefined) {
      this.send(serialize(makeResponse(msg, 200, undefined, token(), [['Allow', ALLOW], ['Accept', 'application/sdp'], ['User-Agent', USER_AGENT]])), dest);
    } else {
      this.send(serialize(makeResponse(msg, 481, undefined, token())), dest);
    }
  }
}

/** One placed call: the INVITE client transaction, then the dialog, and its RTP. */
class Call implements PlacedCall {
  readonly callId: string;
  readonly transactionId: string;
  readonly inviteBranch = newBranch();
  state: PlacedCallState = 'inviting';
  readonly answered: Promise<CallAnswer>;
  readonly ended: Promise<CallEnd>;
  readonly rtp = { sent: 0, received: 0, localPort: 0 };
  private resolveAnswered!: (a: CallAnswer) => void;
  private rejectAnswered!: (e: Error) => void;
  private resolveEnded!: (e: CallEnd) => void;
  private readonly fromTag = token();
  private readonly localUri: string;
  private readonly remoteUri: string;
  private readonly ownRoutes: Set<string>;
  // INVITE client transaction
  private invite?: SipRequest;
  private inviteBuf?: Buffer;
  private timerA?: NodeJS.Timeout;
  private timerB?: NodeJS.Timeout;
  private intervalA: number;
  private provisional = false;
  private cancelWanted = false;
  private cancelSent = false;
  private nonOkAck?: Buffer;
  // dialog (§12.1.2)
  private remoteTag?: string;
  private remoteTarget?: string;
  private routeSet: string[] = [];
  private dialogAlive = false;
  private okAck?: Buffer;
  private localSeq = 1;
  private remoteSeq?: number;
  private readonly served = new Map<string, { buf: Buffer; dest: Dest }>();
  private readonly strays = new Set<string>();
  private reinviteOk?: { buf: Buffer; dest: Dest; seq: number; interval: number; timer?: NodeJS.Timeout; giveUp?: NodeJS.Timeout };
  // media
  private stream?: RtpStream;
  private readonly sdpSession = String(randomInt(1, 2 ** 47));
  private sdpVersion = 1;
  private localDir: Direction = 'sendrecv';
  private remoteDir: Direction = 'sendrecv';
  private telephoneEventPt = DEFAULT_TELEPHONE_EVENT_PT;
  private maxTimer?: NodeJS.Timeout;
  private hangupPromise?: Promise<void>;
  private settleHangup?: () => void;
  private done = false;

  constructor(
    private readonly placer: CallPlacer,
    private readonly o: PlaceCallOptions & { caller: string },
    private readonly source: AudioSource | null,
  ) {
    this.callId = `${token()}@${placer.host}`;
    this.transactionId = o.transactionId;
    this.localUri = `sip:${o.caller}@${placer.host}`;
    const gw = placer.opts.gateway;
    this.remoteUri = `sip:${o.number}@${gw.host}:${gw.port}`;
    this.intervalA = placer.timers.t1;
    this.ownRoutes = new Set([placer.selfRoute, ...FICTITIOUS_PROXIES].map(routeKey));
    this.answered = new Promise<CallAnswer>((res, rej) => {
      this.resolveAnswered = res;
      this.rejectAnswered = rej;
    });
    // Nobody has to listen to `answered` (e.g. a benchmark that only awaits `ended`).
    this.answered.catch(() => undefined);
    this.ended = new Promise<CallEnd>((res) => (this.resolveEnded = res));
  }

  private get log(): Logger {
    return this.placer.log;
  }

  receivedSamples(): Int16Array {
    return this.stream ? this.stream.samples() : new Int16Array(0);
  }

  receivedDigits(): string {
    return this.stream ? this.stream.digits.join('') : '';
  }

  // ------------------------------------------------------------ INVITE (§17.1.1)

  async start(): Promise<void> {
    const sock = dgram.createSocket('udp4');
    sock.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(0, this.placer.host, () => {
          sock.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      sock.close();
      return this.fail(0, `Local failure: cannot bind an RTP socket: ${(e as Error).message}`);
    }
    this.rtp.localPort = sock.address().port;
    this.stream = new RtpStream(sock, this.rtp, this.source, this.placer.keepSamples);
    if (this.state !== 'inviting' || this.placer.isClosed) {
      // Hung up (or closed) before the INVITE could go out: nothing to cancel.
      if (!this.done) this.finishUnanswered(487, 'Request Terminated', 'cancelled before the INVITE was sent');
      this.stream.close();
      return;
    }
    if (this.cancelWanted) return this.finishUnanswered(487, 'Request Terminated', 'cancelled before the INVITE was sent');
    this.invite = this.buildInvite();
    this.inviteBuf = serialize(this.invite);
    this.placer.send(this.inviteBuf, this.placer.gateway);
    this.timerA = setTimeout(this.onTimerA, this.intervalA);
    this.timerB = setTimeout(this.onTimerB, 64 * this.placer.timers.t1);
  }

  private buildInvite(): SipRequest {
    const p = this.placer;
    const o = this.o;
    const h = new SipHeaders();
    h.add('Via', `SIP/2.0/UDP ${p.host}:${p.sipPort};branch=${this.inviteBranch};rport`);
    h.add('Max-Forwards', '70');
    h.add('Record-Route', p.selfRoute);
    for (const r of FICTITIOUS_PROXIES) h.add('Record-Route', r);
    h.add('From', `<${this.localUri}>;tag=${this.fromTag}`);
    h.add('To', `<${this.remoteUri}>`);
    h.add('Call-ID', this.callId);
    h.add('CSeq', '1 INVITE');
    h.add('Contact', `<sip:${o.caller}@${p.host}:${p.sipPort}>`);
    h.add('Allow', ALLOW);
    h.add('User-Agent', USER_AGENT);
    h.add('X-transaction-id', o.transactionId);
    h.add('Session-ID', o.sessionId);
    if (o.agentLoginId !== undefined) h.add('X-agent-login-id', o.agentLoginId);
    if (o.dnis !== undefined) h.add('DNIS', o.dnis);
    h.add('Content-Type', 'application/sdp');
    return newRequest('INVITE', this.remoteUri, h, Buffer.from(this.localSdp()));
  }

  private localSdp(): string {
    return buildSdp({
      host: this.placer.host,
      port: this.rtp.localPort,
      sessionId: this.sdpSession,
      version: this.sdpVersion,
      direction: this.localDir,
      telephoneEventPt: this.telephoneEventPt,
    });
  }

  private readonly onTimerA = (): void => {
    this.timerA = undefined;
    if (this.state !== 'inviting' || this.provisional || !this.inviteBuf) return;
    this.placer.send(this.inviteBuf, this.placer.gateway);
    this.intervalA *= 2; // §17.1.1.2: Timer A doubles without a cap
    this.timerA = setTimeout(this.onTimerA, this.intervalA);
  };

  /** Timer B (no response at all) and, once it rings, the same deadline for the answer. */
  private readonly onTimerB = (): void => {
    this.timerB = undefined;
    if (this.state !== 'inviting') return;
    const secs = (64 * this.placer.timers.t1) / 1000;
    if (this.provisional) this.sendCancel(); // a 487 (or a late 2xx) is still ACKed when it comes
    this.finishUnanswered(408, 'Request Timeout', this.provisional ? `not answered within ${secs} s` : `Timer B: no response within ${secs} s`);
  };

  onInviteResponse(res: SipResponse): void {
    if (res.status < 200) {
      if (this.state !== 'inviting') return;
      this.provisional = true;
      clearTimeout(this.timerA);
      this.timerA = undefined;
      if (this.cancelWanted) this.sendCancel();
      return;
    }
    if (res.status < 300) return this.on2xx(res);
    // §17.1.1.3: ACK on the INVITE's branch, re-sent for every retransmission of the final response.
    this.nonOkAck ??= serialize(this.buildNonOkAck(res));
    this.placer.send(this.nonOkAck, this.placer.gateway);
    if (this.state === 'inviting') this.finishUnanswered(res.status, res.reason);
  }

  private buildNonOkAck(res: SipResponse): SipRequest {
    const inv = this.invite!;
    const h = new SipHeaders();
    h.add('Via', inv.headers.get('Via')!);
    h.add('Max-Forwards', '70');
    h.add('From', inv.headers.get('From')!);
    h.add('To', res.headers.get('To') ?? inv.headers.get('To')!);
    h.add('Call-ID', this.callId);
    h.add('CSeq', '1 ACK');
    h.add('User-Agent', USER_AGENT);
    return newRequest('ACK', inv.uri, h);
  }

  /** §9.1: CANCEL only once a provisional response came; same branch, Request-URI, From, To. */
  private sendCancel(): void {
    if (this.cancelSent || !this.invite || !this.provisional) return;
    this.cancelSent = true;
    const inv = this.invite;
    const h = new SipHeaders();
    h.add('Via', inv.headers.get('Via')!);
    h.add('Max-Forwards', '70');
    h.add('From', inv.headers.get('From')!);
    h.add('To', inv.headers.get('To')!);
    h.add('Call-ID', this.callId);
    h.add('CSeq', '1 CANCEL');
    h.add('User-Agent', USER_AGENT);
    void this.placer.nonInvite.request(newRequest('CANCEL', inv.uri, h), this.placer.gateway).then((r) => {
      if (r === 'timeout' || r.status >= 300) this.log.debug({ callId: this.callId, status: r === 'timeout' ? 'timeout' : r.status }, 'CANCEL not accepted');
    });
  }

  private on2xx(res: SipResponse): void {
    const tag = tagOf(res.headers.get('To')) ?? '';
    if (this.remoteTag !== undefined && tag === this.remoteTag) {
      // A retransmitted 2xx: our ACK got lost (§13.2.2.4).
      if (this.okAck) this.placer.send(this.okAck, this.nextHop());
      return;
    }
    if (this.remoteTag !== undefined || this.state !== 'inviting') return this.ackAndByeStray(res, tag);
    clearTimeout(this.timerA);
    clearTimeout(this.timerB);
    this.timerA = this.timerB = undefined;
    this.adoptDialog(res, tag);
    this.okAck = serialize(this.buildInDialog('ACK', 1));
    this.placer.send(this.okAck, this.nextHop());
    this.applyRemoteSdp(res.body.length ? parseSdp(res.body.toString('utf8')) : null);
    this.state = 'answered';
    this.placer.stats.answered++;
    if (this.stream?.source) this.placer.clock.add(this.stream);
    this.resolveAnswered({ status: res.status, reason: res.reason });
    this.log.debug({ callId: this.callId, status: res.status }, 'call answered');
    if (this.cancelWanted) {
      // The 2xx crossed our CANCEL: the session exists, so it must be ended with BYE (§15).
      void this.sendBye().then(() => this.settleHangup?.());
      return;
    }
    if (this.o.maxDurationMs !== undefined && this.o.maxDurationMs >= 0) {
      this.maxTimer = setTimeout(() => void this.hangup(), this.o.maxDurationMs);
    }
  }

  /** §12.1.2: remote tag, remote target from Contact, route set = Record-Route reversed. */
  private adoptDialog(res: SipResponse, tag: string): void {
    this.remoteTag = tag;
    const contact = res.headers.get('Contact');
    let target = this.remoteUri;
    if (contact) {
      try {
        target = parseNameAddr(contact).uri;
      } catch {
        /* keep the To URI */
      }
    }
    this.remoteTarget = target;
    this.routeSet = res.headers.getAll('Record-Route').reverse();
    this.dialogAlive = true;
  }

  /** A 2xx we cannot use (another dialog, or after we gave up): ACK it, then BYE it (§13.2.2.4). */
  private ackAndByeStray(res: SipResponse, tag: string): void {
    const saved = { tag: this.remoteTag, target: this.remoteTarget, routes: this.routeSet, alive: this.dialogAlive, seq: this.localSeq };
    this.adoptDialog(res, tag);
    const ack = serialize(this.buildInDialog('ACK', 1));
    const dest = this.nextHop();
    this.placer.send(ack, dest);
    if (!this.strays.has(tag)) {
      this.strays.add(tag);
      const bye = this.buildInDialog('BYE', 2);
      void this.placer.nonInvite.request(bye, dest);
    }
    this.remoteTag = saved.tag;
    this.remoteTarget = saved.target;
    this.routeSet = saved.routes;
    this.dialogAlive = saved.alive;
    this.localSeq = saved.seq;
  }

  // ------------------------------------------------------------ requests we send in the dialog

  /** §12.2.1.1: Request-URI = remote target (or the first route when it is a strict router). */
  private buildInDialog(method: string, seq: number, extra: [string, string][] = [], body?: { type: string; text: string }): SipRequest {
    const p = this.placer;
    const h = new SipHeaders();
    h.add('Via', `SIP/2.0/UDP ${p.host}:${p.sipPort};branch=${newBranch()};rport`);
    h.add('Max-Forwards', '70');
    let uri = this.remoteTarget!;
    const routes = [...this.routeSet];
    if (routes.length && !hasLr(routes[0]!)) {
      uri = parseNameAddr(routes.shift()!).uri;
      routes.push(`<${this.remoteTarget}>`);
    }
    for (const r of routes) h.add('Route', r);
    h.add('From', `<${this.localUri}>;tag=${this.fromTag}`);
    h.add('To', `<${this.remoteUri}>;tag=${this.remoteTag}`);
    h.add('Call-ID', this.callId);
    h.add('CSeq', `${seq} ${method}`);
    h.add('User-Agent', USER_AGENT);
    for (const [k, v] of extra) h.add(k, v);
    if (body) h.add('Content-Type', body.type);
    return newRequest(method, uri, h, body ? Buffer.from(body.text) : Buffer.alloc(0));
  }

  /**
   * Where an in-dialog request physically goes. The leading routes that are the placer's own
   * (itself and the fictitious proxies it stands in for) are hops it simulates; the first route
   * after them, if any, is a real next hop, else the remote target. Hosts that are not numeric
   * IPv4 (no DNS here) fall back to the gateway address.
   */
  private nextHop(): Dest {
    const real = this.routeSet.find((r) => !this.ownRoutes.has(routeKey(r)));
    return uriDest(real ?? this.remoteTarget ?? '') ?? this.placer.gateway;
  }

  private sendBye(): Promise<void> {
    this.finish({ by: 'customer' });
    if (!this.dialogAlive) return Promise.resolve();
    this.dialogAlive = false;
    const bye = this.buildInDialog('BYE', ++this.localSeq, [['Reason', 'Q.850;cause=16;text="Normal call clearing"']]);
    return this.placer.nonInvite.request(bye, this.nextHop()).then((r) => {
      if (r === 'timeout' || r.status >= 300) {
        this.placer.stats.hangupErrors++;
        this.log.debug({ callId: this.callId, result: r === 'timeout' ? 'timeout' : r.status }, 'BYE not accepted');
      }
    });
  }

  hangup(): Promise<void> {
    if (this.hangupPromise) return this.hangupPromise;
    if (this.state === 'answered') {
      this.hangupPromise = this.sendBye();
    } else if (this.state === 'inviting') {
      this.cancelWanted = true;
      this.hangupPromise = new Promise<void>((r) => (this.settleHangup = r));
      // Before the INVITE went out (RTP socket still binding) start() sees cancelWanted; before a
      // provisional response the CANCEL waits for one (§9.1), or Timer B ends the attempt.
      if (this.provisional) this.sendCancel();
    } else {
      this.hangupPromise = Promise.resolve();
    }
    return this.hangupPromise;
  }

  // ------------------------------------------------------------ requests from the gateway (§12.2.2)

  onRequest(req: SipRequest, source: Dest): void {
    const dest = responseDest(req, source);
    const key = `${topBranch(req)}|${req.method}`;
    const prior = this.served.get(key);
    if (prior) {
      // A retransmission (§17.2): the same answer again.
      this.placer.send(prior.buf, dest);
      return;
    }
    const reply = (status: number, reason?: string, extra: [string, string][] = [], body?: string): Buffer => {
      const buf = serialize(makeResponse(req, status, reason, this.fromTag, [...extra, ['User-Agent', USER_AGENT]], body));
      this.served.set(key, { buf, dest });
      if (this.served.size > SERVED_CAP) this.served.delete(this.served.keys().next().value!);
      this.placer.send(buf, dest);
      return buf;
    };
    if (req.method === 'CANCEL') {
      // We answer every in-dialog request at once, so there is never anything left to cancel.
      return void reply(this.served.has(`${topBranch(req)}|INVITE`) ? 200 : 481);
    }
    if (!this.dialogAlive || tagOf(req.headers.get('To')) !== this.fromTag || tagOf(req.headers.get('From')) !== this.remoteTag) {
      return void reply(481);
    }
    const seq = parseCSeq(req.headers.get('CSeq')!).seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return void reply(500, 'CSeq out of order');
    this.remoteSeq = seq;
    switch (req.method) {
      case 'BYE': {
        reply(200);
        this.dialogAlive = false;
        const reason = req.headers.getAll('Reason').join(', ');
        this.finish(reason ? { by: 'gateway', reason } : { by: 'gateway' });
        return;
      }
      case 'INVITE':
        return this.onReinvite(req, seq, dest, reply);
      case 'INFO':
      case 'NOTIFY':
        return void reply(200);
      case 'OPTIONS':
        return void reply(200, undefined, [['Allow', ALLOW], ['Accept', 'application/sdp']]);
      case 'REFER':
        return this.onRefer(req, reply);
      default:
        return void reply(405, undefined, [['Allow', ALLOW]]);
    }
  }

  /** Hold/resume and refreshes: answer the offer (§14.2), retransmit the 2xx until the ACK (§13.3.1.4). */
  private onReinvite(req: SipRequest, seq: number, dest: Dest, reply: (s: number, r?: string, e?: [string, string][], b?: string) => Buffer): void {
    let offer: SdpSummary | null = null;
    if (req.body.length) {
      offer = parseSdp(req.body.toString('utf8'));
      if (!offer || offer.port === 0 || !offer.formats.includes(PT_PCMU)) return void reply(488, 'Not Acceptable Here: PCMU only');
      this.localDir = answerDirection(offer.address === '0.0.0.0' ? 'inactive' : offer.direction);
      if (offer.telephoneEventPt !== undefined) this.telephoneEventPt = offer.telephoneEventPt;
      if (this.stream) this.stream.dtmfPt = this.telephoneEventPt;
      this.applyRemoteSdp(offer);
    }
    this.sdpVersion++;
    this.stopReinviteRetransmit();
    const p = this.placer;
    const buf = reply(200, undefined, [['Contact', `<sip:${this.o.caller}@${p.host}:${p.sipPort}>`], ['Allow', ALLOW], ['Content-Type', 'application/sdp']], this.localSdp());
    const ok: NonNullable<Call['reinviteOk']> = { buf, dest, seq, interval: p.timers.t1 };
    const again = (): void => {
      p.send(ok.buf, ok.dest);
      ok.interval = Math.min(2 * ok.interval, p.timers.t2);
      ok.timer = setTimeout(again, ok.interval);
    };
    ok.timer = setTimeout(again, ok.interval);
    ok.giveUp = setTimeout(() => this.stopReinviteRetransmit(), 64 * p.timers.t1);
    this.reinviteOk = ok;
  }

  private stopReinviteRetransmit(): void {
    clearTimeout(this.reinviteOk?.timer);
    clearTimeout(this.reinviteOk?.giveUp);
    this.reinviteOk = undefined;
  }

  onAck(req: SipRequest): void {
    const ok = this.reinviteOk;
    if (!ok || parseCSeq(req.headers.get('CSeq')!).seq !== ok.seq) return;
    this.stopReinviteRetransmit();
    // An offer-less re-INVITE got our offer in the 2xx; the answer is in the ACK.
    if (req.body.length) {
      const ans = parseSdp(req.body.toString('utf8'));
      if (ans) this.applyRemoteSdp(ans);
    }
  }

  /** RFC 3515: accept, report the outcome with NOTIFY (sipfrag), and count the call transferred. */
  private onRefer(req: SipRequest, reply: (s: number, r?: string, e?: [string, string][]) => Buffer): void {
    const referTo = req.headers.get('Refer-To');
    if (!referTo) return void reply(400, 'Missing Refer-To');
    reply(202);
    let target = referTo;
    try {
      target = parseNameAddr(referTo).uri;
    } catch {
      /* keep it as written */
    }
    const p = this.placer;
    const notify = this.buildInDialog(
      'NOTIFY',
      ++this.localSeq,
      [
        ['Event', 'refer'],
        ['Subscription-State', 'terminated;reason=noresource'],
        ['Contact', `<sip:${this.o.caller}@${p.host}:${p.sipPort}>`],
      ],
      { type: 'message/sipfrag;version=2.0', text: 'SIP/2.0 200 OK\r\n' },
    );
    void p.nonInvite.request(notify, this.nextHop());
    // The gateway leaves with BYE next; the dialog stays up to answer it.
    this.finish({ by: 'gateway', reason: 'transferred', referTo: target });
  }

  // ------------------------------------------------------------ media

  private applyRemoteSdp(sdp: SdpSummary | null): void {
    const s = this.stream;
    if (!s) return;
    if (!sdp || sdp.port === 0 || !sdp.formats.includes(PT_PCMU)) {
      s.remote = undefined;
      s.sending = false;
      if (sdp) this.log.debug({ callId: this.callId }, 'no PCMU stream in the SDP: not sending RTP');
      return;
    }
    const held = sdp.address === '0.0.0.0';
    s.remote = held ? undefined : { address: sdp.address, port: sdp.port };
    this.remoteDir = held ? 'inactive' : sdp.direction;
    s.sending = s.remote !== undefined && maySend(this.localDir, this.remoteDir);
  }

  // ------------------------------------------------------------ the end

  /** The INVITE never led to a session: a refusal, a timeout, or the customer's CANCEL. */
  private finishUnanswered(status: number, reason: string, detail?: string): void {
    if (this.cancelWanted) {
      this.rejectAnswered(new CallFailedError(status, reason, detail ?? 'cancelled by the customer'));
      this.finish({ by: 'customer', reason: 'cancelled' });
      this.settleHangup?.();
      return;
    }
    this.fail(status, reason, detail);
  }

  private fail(status: number, reason: string, detail?: string): void {
    if (this.done) return;
    const err = new CallFailedError(status, reason, detail);
    this.rejectAnswered(err);
    this.finish({ by: 'failed', reason: err.message });
    this.settleHangup?.();
  }

  private finish(end: CallEnd): void {
    if (this.done) return;
    this.done = true;
    this.state = end.by === 'failed' ? 'failed' : 'ended';
    clearTimeout(this.timerA);
    clearTimeout(this.timerB);
    clearTimeout(this.maxTimer);
    this.timerA = this.timerB = this.maxTimer = undefined;
    if (this.stream) {
      this.placer.clock.remove(this.stream);
      this.stream.close();
    }
    this.placer.callEnded(this, end);
    this.resolveEnded(end);
    this.log.debug({ callId: this.callId, ...end }, 'call ended');
  }

  /** Release timers and sockets for good (lingering over, or the placer closes). */
  dispose(): void {
    this.stopReinviteRetransmit();
    if (!this.done) {
      this.rejectAnswered(new CallFailedError(0, 'CallPlacer closed'));
      this.finish({ by: 'failed', reason: 'CallPlacer closed' });
      this.settleHangup?.();
    }
    this.stream?.close();
  }
}
