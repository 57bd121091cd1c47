/**
 * One call of the sandbox placer: the INVITE (src/sip's client transaction), then the UAC dialog
 * (§12.1.2) and its RTP. Requests from the gateway inside the dialog are answered by the Dialog:
 * BYE, re-INVITE (hold/resume, answered here), INFO, OPTIONS, NOTIFY, REFER (202 + NOTIFY, RFC
 * 3515), anything else 405.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Dialog, DialogEndReason } from '../../sip/dialog.js';
import { parseNameAddr, parseUri } from '../../sip/grammar.js';
import type { SipRequest } from '../../sip/message.js';
import { uniqueToken } from '../../sip/response.js';
import { invite, InviteError, type InviteAnswer, type OutgoingInvite } from '../../sip/uac.js';
import { RtpStream, silenceSource, toneSource, type AudioSource } from './media.js';
import type { SandboxPlacer } from './placer.js';
import { answerDirection, buildSdp, DEFAULT_TELEPHONE_EVENT_PT, maySend, parseSdp, PT_PCMU, type Direction, type SdpSummary } from './sdp.js';

export interface SandboxCallOptions {
  /** The agent's number: the Request-URI user (and the To user). */
  number: string;
  /**
   * The Contact the agent's phone registered (a platform that rings a registered phone): the
   * Request-URI and where the INVITE goes (RFC 3261 §10.2, §16.5). Default: the agent's number at
   * the gateway's address.
   */
  contact?: string;
  /** The customer's number (E.164), the From user. Default +13125550100. */
  caller?: string;
  /** The platform's headers on the INVITE (its call ids). */
  headers?: Record<string, string>;
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
  readonly state: PlacedCallState;
  /** Resolves on the 2xx (once ACKed); rejects with a CallFailedError on a non-2xx final or a timeout. */
  readonly answered: Promise<CallAnswer>;
  /** Always resolves, once, when the call is over. */
  readonly ended: Promise<CallEnd>;
  /** Customer hangup: BYE once answered (CANCEL while ringing). Idempotent. */
  hangup(): Promise<void>;
  readonly rtp: { sent: number; received: number; localPort: number };
  /** Decoded PCMU received from the gateway (the most recent keepReceivedSeconds). */
  receivedSamples(): Int16Array;
  /** DTMF digits the gateway sent (RFC 4733), in order. */
  receivedDigits(): string;
  /** The media directions now: ours (the customer's phone) and the gateway's last offer or answer. */
  directions(): { local: Direction; remote: Direction };
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

const DEFAULT_CALLER = '+13125550100';
const USER_RE = /^[A-Za-z0-9+\-_.!~*'()#]+$/;

/** The URI inside a Route/Record-Route value, without its parameters, for comparisons. */
function routeKey(value: string): string {
  try {
    const u = parseUri(parseNameAddr(value).uri);
    return `${u.host}:${u.port ?? 5060}`;
  } catch {
    return value;
  }
}

function uriDest(value: string): { address: string; port: number } | undefined {
  try {
    const u = parseUri(value.includes('<') ? parseNameAddr(value).uri : value);
    return isIPv4(u.host) ? { address: u.host, port: u.port ?? 5060 } : undefined;
  } catch {
    return undefined;
  }
}

export class SandboxCall implements PlacedCall {
  readonly callId: string;
  state: PlacedCallState = 'inviting';
  readonly answered: Promise<CallAnswer>;
  readonly ended: Promise<CallEnd>;
  readonly rtp = { sent: 0, received: 0, localPort: 0 };
  readonly options: SandboxCallOptions;
  private resolveAnswered!: (a: CallAnswer) => void;
  private rejectAnswered!: (e: Error) => void;
  private resolveEnded!: (e: CallEnd) => void;
  private readonly caller: string;
  private readonly remoteUri: string;
  /** The agent's address of record (To). */
  private readonly aor: string;
  private readonly ownRoutes: Set<string>;
  private readonly recordRoute: string[];
  private readonly source: AudioSource | null;
  private out?: OutgoingInvite;
  private dialog?: Dialog;
  private cancelWanted = false;
  /** The answer did not come within 64*T1: the attempt was cancelled as a timeout. */
  private gaveUp = false;
  private deadline?: NodeJS.Timeout;
  private maxTimer?: NodeJS.Timeout;
  private hangupPromise?: Promise<void>;
  private settleHangup?: () => void;
  private done = false;
  // media
  private stream?: RtpStream;
  private readonly sdpSession = String(randomInt(1, 2 ** 47));
  private sdpVersion = 1;
  private localDir: Direction = 'sendrecv';
  private remoteDir: Direction = 'sendrecv';
  private telephoneEventPt = DEFAULT_TELEPHONE_EVENT_PT;

  constructor(
    private readonly placer: SandboxPlacer,
    o: SandboxCallOptions,
  ) {
    if (!o.number || !USER_RE.test(o.number)) throw new TypeError(`invalid agent number '${o.number}'`);
    this.caller = o.caller ?? DEFAULT_CALLER;
    if (!USER_RE.test(this.caller)) throw new TypeError(`invalid caller '${this.caller}'`);
    const audio = o.audio ?? 'silence';
    if (typeof audio === 'object') {
      if (!(audio.toneHz > 0 && audio.toneHz < 4000)) throw new RangeError(`toneHz must be in (0, 4000), got ${audio.toneHz}`);
      if (audio.amplitude !== undefined && !(audio.amplitude >= 0 && audio.amplitude <= 32767)) throw new RangeError('amplitude must be 0..32767');
    }
    this.source = audio === 'none' ? null : audio === 'silence' ? silenceSource : toneSource(audio.toneHz, audio.amplitude ?? 8000);
    this.options = o;
    this.callId = `${uniqueToken()}@${placer.host}`;
    const gw = placer.opts.gateway;
    this.aor = `sip:${o.number}@${gw.host}:${gw.port}`;
    if (o.contact !== undefined && !uriDest(o.contact)) throw new TypeError(`invalid contact '${o.contact}'`);
    this.remoteUri = o.contact ?? this.aor;
    this.recordRoute = placer.opts.shape.recordRoute(placer.selfRoute);
    this.ownRoutes = new Set(this.recordRoute.map(routeKey));
    this.answered = new Promise<CallAnswer>((res, rej) => {
      this.resolveAnswered = res;
      this.rejectAnswered = rej;
    });
    // Nobody has to listen to `answered` (e.g. a benchmark that only awaits `ended`).
    this.answered.catch(() => undefined);
    this.ended = new Promise<CallEnd>((res) => (this.resolveEnded = res));
  }

  receivedSamples(): Int16Array {
    return this.stream ? this.stream.samples() : new Int16Array(0);
  }

  receivedDigits(): string {
    return this.stream ? this.stream.digits.join('') : '';
  }

  private get contact(): string {
    return `<sip:${this.caller}@${this.placer.host}:${this.placer.sipPort}>`;
  }

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
    if (this.done || this.placer.isClosed || this.cancelWanted) {
      // Hung up (or closed) before the INVITE could go out: nothing to cancel.
      return this.finishUnanswered(487, 'Request Terminated', 'cancelled before the INVITE was sent');
    }
    const gw = (this.options.contact ? uriDest(this.options.contact) : undefined) ?? this.placer.gateway;
    this.out = invite(this.placer.ua, {
      destination: { transport: 'udp', address: gw.address, port: gw.port },
      uri: this.remoteUri,
      from: `<sip:${this.caller}@${this.placer.host}>`,
      to: `<${this.aor}>`,
      contact: this.contact,
      headers: { 'Record-Route': this.recordRoute, ...this.options.headers },
      sdp: this.localSdp(),
      callId: this.callId,
      logger: this.placer.log,
      route: (d) => this.route(d.routeSet, d.remoteTarget),
      ownRoute: (r) => this.ownRoutes.has(routeKey(r)),
    });
    // Timer B covers no answer at all; a call that rings for as long is given up the same way.
    this.deadline = setTimeout(() => {
      this.gaveUp = true;
      this.out?.cancel();
    }, 64 * this.placer.t1);
    this.out.answered.then(
      (a) => this.onAnswer(a),
      (e: unknown) => this.onFailure(e),
    );
  }

  /**
   * Where an in-dialog request physically goes: past the routes the platform plays itself (the
   * placer and its fictitious proxies) to the first real hop, else the remote target.
   */
  private route(routeSet: readonly string[], remoteTarget: string): { transport: 'udp'; address: string; port: number } {
    const real = routeSet.find((r) => !this.ownRoutes.has(routeKey(r)));
    const d = uriDest(real ?? remoteTarget) ?? this.placer.gateway;
    return { transport: 'udp', ...d };
  }

  directions(): { local: Direction; remote: Direction } {
    return { local: this.localDir, remote: this.remoteDir };
  }

  private localSdp(): string {
    return buildSdp({ host: this.placer.host, port: this.rtp.localPort, sessionId: this.sdpSession, version: this.sdpVersion, direction: this.localDir, telephoneEventPt: this.telephoneEventPt });
  }

  private onAnswer(a: InviteAnswer): void {
    clearTimeout(this.deadline);
    const dialog = a.dialog;
    if (this.done) return void dialog.bye('local-bye');
    this.dialog = dialog;
    dialog.handler = {
      offer: (sdp) => this.onOffer(sdp),
      info: () => ({ status: 200 }),
      refer: (req) => this.onRefer(req),
    };
    dialog.on('terminated', (why, req) => this.onTerminated(why, req));
    this.applyRemoteSdp(a.sdp ? parseSdp(a.sdp) : null);
    this.state = 'answered';
    this.placer.stats.answered++;
    if (this.stream?.source) this.placer.clock.add(this.stream);
    this.resolveAnswered({ status: a.response.status, reason: a.response.reason });
    const max = this.options.maxDurationMs;
    if (max !== undefined && max >= 0) this.maxTimer = setTimeout(() => void this.hangup(), max);
  }

  private onFailure(e: unknown): void {
    clearTimeout(this.deadline);
    if (!(e instanceof InviteError)) return this.fail(0, `Local failure: ${(e as Error).message}`);
    const secs = (64 * this.placer.t1) / 1000;
    if (this.gaveUp) return this.fail(408, 'Request Timeout', `not answered within ${secs} s`);
    if (e.kind === 'timeout') return this.finishUnanswered(408, 'Request Timeout', `Timer B: no response within ${secs} s`);
    this.finishUnanswered(e.status, e.reason);
  }

  /** Hold/resume and refreshes: answer the offer (RFC 3264 §8). */
  private onOffer(sdp: string | undefined): { sdp: string } | { status: number; reason: string } {
    if (sdp !== undefined) {
      const offer = parseSdp(sdp);
      if (!offer || offer.port === 0 || !offer.formats.includes(PT_PCMU)) return { status: 488, reason: 'Not Acceptable Here: PCMU only' };
      this.localDir = answerDirection(offer.address === '0.0.0.0' ? 'inactive' : offer.direction);
      if (offer.telephoneEventPt !== undefined) this.telephoneEventPt = offer.telephoneEventPt;
      if (this.stream) this.stream.dtmfPt = this.telephoneEventPt;
      this.applyRemoteSdp(offer);
    }
    this.sdpVersion++;
    return { sdp: this.localSdp() };
  }

  /** RFC 3515: accept, report the outcome with NOTIFY (sipfrag), and count the call transferred. */
  private onRefer(req: SipRequest): { status: number; reason?: string } {
    const referTo = req.headers.get('Refer-To');
    if (!referTo) return { status: 400, reason: 'Missing Refer-To' };
    let target = referTo;
    try {
      target = parseNameAddr(referTo).uri;
    } catch {
      /* keep it as written */
    }
    const dialog = this.dialog!;
    // After the 202 has gone out (the dialog answers when this returns).
    queueMicrotask(() => {
      void dialog.request(
        'NOTIFY',
        { Event: 'refer', 'Subscription-State': 'terminated;reason=noresource', Contact: this.contact, 'Content-Type': 'message/sipfrag;version=2.0' },
        'SIP/2.0 200 OK\r\n',
      );
    });
    // The gateway leaves with BYE next; the dialog stays up to answer it.
    this.finish({ by: 'gateway', reason: 'transferred', referTo: target });
    return { status: 202 };
  }

  private onTerminated(why: DialogEndReason, req?: SipRequest): void {
    if (why === 'remote-bye') {
      const reason = req?.headers.getAll('Reason').join(', ');
      return this.finish(reason ? { by: 'gateway', reason } : { by: 'gateway' });
    }
    if (why !== 'local-bye') this.finish({ by: 'failed', reason: why });
  }

  private applyRemoteSdp(sdp: SdpSummary | null): void {
    const s = this.stream;
    if (!s) return;
    if (!sdp || sdp.port === 0 || !sdp.formats.includes(PT_PCMU)) {
      s.remote = undefined;
      s.sending = false;
      return;
    }
    const held = sdp.address === '0.0.0.0';
    s.remote = held ? undefined : { address: sdp.address, port: sdp.port };
    this.remoteDir = held ? 'inactive' : sdp.direction;
    s.sending = s.remote !== undefined && maySend(this.localDir, this.remoteDir);
  }

  hangup(): Promise<void> {
    if (this.hangupPromise) return this.hangupPromise;
    if (this.state === 'answered' && this.dialog) {
      this.hangupPromise = this.sendBye(this.dialog);
    } else if (this.state === 'inviting') {
      this.cancelWanted = true;
      this.hangupPromise = new Promise<void>((r) => (this.settleHangup = r));
      // Before the INVITE went out (RTP socket still binding) start() sees cancelWanted; the
      // INVITE client waits for a provisional response before its CANCEL (§9.1).
      this.out?.cancel();
    } else {
      this.hangupPromise = Promise.resolve();
    }
    return this.hangupPromise;
  }

  private async sendBye(dialog: Dialog): Promise<void> {
    this.finish({ by: 'customer' });
    const r = await dialog.bye('local-bye', { Reason: 'Q.850;cause=16;text="Normal call clearing"' });
    if (r === 'timeout' || (r && r.status >= 300)) this.placer.stats.hangupErrors++;
  }

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
    clearTimeout(this.deadline);
    clearTimeout(this.maxTimer);
    if (this.stream) {
      this.placer.clock.remove(this.stream);
      this.stream.close();
    }
    this.placer.callEnded(this, end);
    this.resolveEnded(end);
  }

  /** The placer closes: release everything for good. */
  dispose(): void {
    if (!this.done) {
      this.out?.cancel();
      this.rejectAnswered(new CallFailedError(0, 'placer closed'));
      this.finish({ by: 'failed', reason: 'placer closed' });
      this.settleHangup?.();
    }
    this.stream?.close();
  }
}
