/**
 * One call: the INVITE, the SIP dialog, the media session and the leased agent, owned together
 * from the moment the INVITE is routed to an agent. Every way a call can end, before or after the
 * answer, funnels into `end(reason)`, which is idempotent and tears down in one order:
 * state -> timers -> final refusal of an INVITE never answered, or BYE (if we are the ones ending)
 * -> media -> agent (the wrap-up, exactly once) -> `ended` event.
 */
import { BehaviorSubject, Subject } from 'rxjs';
import type { Logger } from 'pino';
import type { Dialog, DialogEndReason } from '../sip/dialog.js';
import type { Direction } from '../sip/sdp.js';
import type { EngineControl, MediaSession } from '../../media/types.js';
import type { VendorAdapter, VendorCallIds } from '../vendors/types.js';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import { faults } from '../util/faults.js';
import type { DtmfDigit } from './dtmf.js';
import { NO_MEDIA } from './no-media.js';
import { BYE_REASON, endedByFor, refusalFor, transition, type CallInput, type CallState, type EndReason, type Refusal } from './state.js';
import type { MediaSessionStats } from '../../media/types.js';

export type CallEvent =
  | { type: 'dtmf'; digit: DtmfDigit; via: 'info' | 'rtp' }
  | { type: 'control'; control: EngineControl }
  | { type: 'media-updated'; direction: string }
  | { type: 'ended'; reason: EndReason; durationMs: number };

/** The INVITE as the call sees it until it is answered (IncomingInvite). */
export interface PendingInvite {
  readonly state: 'pending' | 'accepted' | 'rejected' | 'cancelled' | string;
  reject(status: number, reason: string, headers?: Record<string, string>): void;
}

export interface CallInfo {
  /** The gateway's key of this call (unique among live calls; the Call-ID unless another live call has it). */
  key: string;
  callId: string;
  profile: string;
  agentId: string;
  number: string;
  caller: string;
  startedAt: number;
}

const FROM_DIALOG: Record<DialogEndReason, EndReason> = {
  'remote-bye': 'caller-bye',
  // Only our own end() sends BYE, and it has set the reason before the dialog reports this.
  'local-bye': 'drain',
  'ack-timeout': 'ack-timeout',
  'session-expired': 'session-expired',
  'transport-error': 'transport-error',
  'request-timeout': 'request-timeout',
};

/** How long the final record waits for the media plane's last counters. */
export const FINAL_STATS_WAIT_MS = 2000;

export class Call {
  readonly state$: BehaviorSubject<CallState>;
  readonly events$ = new Subject<CallEvent>();
  private dialog?: Dialog;
  private timers: TimerHandle[] = [];
  private mediaSession: MediaSession = NO_MEDIA;
  private readonly clock: Clock;
  private readonly startedMono: number;
  private endedPromise?: Promise<void>;
  endReason?: EndReason;
  /** Term code the engine gave with its hangup (the contact-center wrap-up uses it). */
  termCode?: string;
  private transferring = false;
  /** The From tag of the INVITE (with the Call-ID, what tells this call's dialog from another's). */
  fromTag = '';
  /** The status the INVITE was refused with, when the call ended before its answer. */
  refusedWith?: number;
  /** The CallSid the engine got in `start` (Twilio-compatible REST control names the call by it). */
  callSid?: string;
  /** The engine reference the call is bridged to (a named engine, builtin:*, a URL, webrtc:*). */
  engineName?: string;
  /** Who ended the call: caller, engine, api:<its caller>, platform:<name>, gateway (set at the end). */
  endedBy?: string;
  /** When it ended (wall clock) and how long it lasted. */
  endedAt?: number;
  durationMs?: number;
  /** The media plane's final counters, once it reported them (the call's final record). */
  finalStats?: MediaSessionStats;
  /** Resolves once the final record (with the media's final counters) is complete. */
  recorded?: Promise<void>;
  /** Our own hold (API or engine): the caller hears silence instead of the engine. */
  onHold = false;

  get busyTransferring(): boolean {
    return this.transferring;
  }

  /** A new offer toward the caller with this direction (set once answered): its final status. */
  reoffer?: (direction: Direction) => Promise<number | 'timeout'>;

  setHold(on: boolean): void {
    this.onHold = on;
    this.media.hold(on);
    this.log.info({ on }, 'hold from the gateway side');
    // The caller's side is told too: sendonly while held, sendrecv to resume (RFC 3264 §8.4).
    void this.reoffer?.(on ? 'sendonly' : 'sendrecv').then((status) => {
      if (status !== 200) this.log.warn({ on, status }, 'our hold re-INVITE was not accepted: the session stays as it was, the media hold applies');
    });
  }

  /** The platform muted its agent: the caller stops hearing the engine, which still hears the caller. */
  muted = false;

  setMute(on: boolean): void {
    this.muted = on;
    this.media.hold(on, 'mute');
    this.log.info({ on }, 'agent audio muted by the contact center');
  }

  /** Play DTMF digits to the caller (RFC 4733, or in band without telephone-event). */
  sendDigits(digits: string): void {
    this.media.dtmfToCaller(digits);
  }

  /** Set once the contact center has taken the caller (our leg may be dropped by it). */
  private handedOver = false;
  /** The contact center behind this call, when the profile has one. */
  vendor?: { adapter: VendorAdapter; agentId: string };
  /** The screen pop the contact center gave for this call. */
  screenPop?: Record<string, string>;
  /** Set by the orchestrator when a contact center can take contact updates. */
  onContactUpdate?: (fields: Record<string, string>) => Promise<void>;
  /** The vendor's ids for this call (as its adapter names them). */
  vendorIds?: VendorCallIds;

  constructor(
    readonly info: CallInfo,
    /** The INVITE until it is answered: end() refuses it if it never was. */
    private readonly invite: PendingInvite,
    /** Runs once, when the call has ended: the agent's wrap-up or the lease's release. */
    private readonly releaseAgent: (call: Call) => void,
    readonly log: Logger,
    clock: Clock = realClock,
  ) {
    this.clock = clock;
    this.startedMono = clock.now();
    this.state$ = new BehaviorSubject<CallState>('ringing');
  }

  get media(): MediaSession {
    return this.mediaSession;
  }

  /** Whether end() has run (the state machine says 'ended'). */
  get hasEnded(): boolean {
    return this.endedPromise !== undefined;
  }

  get isAnswered(): boolean {
    return this.dialog !== undefined;
  }

  /** The media session opened for this call (a call that already ended closes it at once). */
  attachMedia(media: MediaSession): void {
    if (this.endedPromise) return media.close(this.endReason);
    this.mediaSession = media;
    media.onEnd = (reason, detail) => {
      this.log.warn({ reason, detail }, 'media ended the call');
      void this.end(reason);
    };
    media.onControl = (ev) => void this.control(ev);
    media.onDtmf = (digit) => {
      this.log.info({ digit }, 'DTMF received (RFC 4733)');
      this.events$.next({ type: 'dtmf', digit: { digit, durationMs: 0 }, via: 'rtp' });
    };
    media.onNotice = (text) => this.log.warn(text);
  }

  get state(): CallState {
    return this.state$.value;
  }

  private move(input: CallInput): void {
    const next = transition(this.state, input);
    if (next !== this.state) this.state$.next(next);
  }

  /** The 200 OK went out: the call is up. */
  answered(dialog: Dialog, maxCallSeconds: number): void {
    this.dialog = dialog;
    this.move('answered');
    dialog.on('terminated', (why) => {
      // Our own BYE also terminates the dialog; end() is idempotent so that is harmless. The
      // contact center drops our leg itself once a phonebook transfer completed.
      void this.end(this.handedOver && why === 'remote-bye' ? 'transferred' : FROM_DIALOG[why]);
    });
    if (maxCallSeconds > 0) this.after(maxCallSeconds * 1000, () => void this.end('max-duration'));
    this.pendingAccept?.(true);
  }

  /** A new offer moved the media direction (hold/resume, RFC 3264 §8.4). */
  directionChanged(direction: string): void {
    if (this.state === 'ended' || this.state === 'ringing') return;
    const before = this.state;
    this.move(direction === 'recvonly' || direction === 'inactive' ? 'hold' : 'resume');
    // The engine hears of the caller's hold so it can pause its dialogue (and not talk to nobody).
    if (before !== this.state) this.media.engineEvent(this.state === 'held' ? 'hold' : 'unhold', { by: 'caller' });
    this.events$.next({ type: 'media-updated', direction });
  }

  dtmf(digit: DtmfDigit): void {
    this.log.info({ digit: digit.digit, durationMs: digit.durationMs }, 'DTMF received (SIP INFO)');
    this.media.dtmfFromCaller(digit.digit);
    this.events$.next({ type: 'dtmf', digit, via: 'info' });
  }

  /** RELEASE_CALL from the REST API: ended by `by` (the API's caller), with an optional term code. */
  release(by: string, termCode?: string): Promise<void> {
    if (termCode) this.termCode = termCode;
    this.endedBy ??= by;
    return this.end('api-release');
  }

  /** Call control the engine asked for. Anything the call cannot do now is refused to the engine. */
  async control(ev: EngineControl): Promise<void> {
    this.log.info({ control: ev }, 'engine call control');
    if (this.state !== 'ended') this.events$.next({ type: 'control', control: ev });
    switch (ev.type) {
      case 'hangup':
        this.termCode = ev.termCode;
        await this.end('engine-hangup');
        return;
      case 'transfer':
        await this.transfer(ev);
        return;
      case 'updateContact':
        // A wrap-up step like the term code: durable, retried, confirmed by the contact center.
        if (!this.onContactUpdate) return this.media.engineError('unsupported', 'updateContact needs a contact-center adapter');
        return this.onContactUpdate(ev.fields);
      default:
        // hold/unhold are applied by the media plane.
        return;
    }
  }

  /**
   * Blind transfer to a SIP target with REFER (RFC 3515); the caller's side places the new call
   * and we leave. Transfers by phonebook/contact go through the contact-center adapter instead.
   */
  private async transfer(ev: Extract<EngineControl, { type: 'transfer' }>): Promise<void> {
    if (this.state !== 'active' && this.state !== 'held') {
      this.media.engineError('not-possible', `transfer is not possible while the call is ${this.state}`);
      return;
    }
    if (this.transferring) {
      this.media.engineError('not-possible', 'a transfer is already in progress');
      return;
    }
    if (!ev.target) {
      if (!this.vendor || (!ev.phonebook && !ev.contact)) {
        this.media.engineError('unsupported', 'transfer by phonebook/contact needs a contact-center adapter; give a SIP target');
        return;
      }
      return this.vendorTransfer(ev);
    }
    this.transferring = true;
    const target = /^(sips?|tel):/i.test(ev.target) ? ev.target : `sip:${ev.target}`;
    const res = await this.dialog!.request('REFER', { 'Refer-To': `<${target}>` });
    this.transferring = false;
    if (res !== 'timeout' && res.status >= 200 && res.status < 300) {
      this.log.info({ target, status: res.status }, 'transfer accepted by the caller side');
      await this.end('transferred');
      return;
    }
    const why = res === 'timeout' ? 'no answer' : `${res.status} ${res.reason}`;
    this.log.warn({ target, why }, 'transfer refused');
    // With no engine left to carry on, a failed failover transfer ends the call.
    if (ev.failover) return void (await this.end('engine-failed'));
    this.media.engineError('transfer-failed', `REFER to ${target} failed: ${why}`);
  }

  /**
   * Transfer to a human through the contact center, the platform's way (its adapter resolves when
   * the human has the caller). Our leg then ends with the transfer term code.
   */
  private async vendorTransfer(ev: Extract<EngineControl, { type: 'transfer' }>): Promise<void> {
    const v = this.vendor!;
    this.transferring = true;
    try {
      const how = await v.adapter.transfer(v.agentId, this.vendorIds ?? {}, { ...(ev.phonebook ? { phonebook: ev.phonebook } : {}), ...(ev.contact ? { contact: ev.contact } : {}) });
      if (how) {
        // The platform named the destination; the caller is sent there with REFER (RFC 3515).
        this.transferring = false;
        this.log.info({ phonebook: ev.phonebook, contact: ev.contact, referTo: how.referTo }, 'contact center named the transfer destination');
        return this.transfer({ type: 'transfer', target: how.referTo, ...(ev.failover ? { failover: ev.failover } : {}) });
      }
      this.handedOver = true;
      this.log.info({ phonebook: ev.phonebook, contact: ev.contact }, 'transferred to a human through the contact center');
      await this.end('transferred');
    } catch (e) {
      this.transferring = false;
      this.log.warn({ err: (e as Error).message }, 'contact-center transfer failed');
      if (ev.failover) return void (await this.end('engine-failed'));
      this.media.engineError('transfer-failed', (e as Error).message);
    }
  }

  after(ms: number, fn: () => void): void {
    this.timers.push(this.clock.set(ms, fn));
  }

  /** Set while the call waits for the contact center to accept it (answer policy 'on-accept'). */
  private pendingAccept?: (accepted: boolean) => void;

  /**
   * Wait until the contact center accepts the call (true), or the call ends or `timeoutMs` passes
   * first (false). The platform's `accept` action calls `accept()`.
   */
  awaitAccept(timeoutMs: number): Promise<boolean> {
    if (this.endedPromise) return Promise.resolve(false);
    if (this.acceptedEarly) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = this.clock.set(timeoutMs, () => settle(false));
      const settle = (ok: boolean): void => {
        t.cancel();
        delete this.pendingAccept;
        resolve(ok);
      };
      this.pendingAccept = settle;
    });
  }

  /** An accept that came while the call was still being set up (media opening): honoured when it waits. */
  private acceptedEarly = false;

  /**
   * The contact center accepted the call: false when the call is past the point where that means
   * anything (answered, ended). The platform may accept as soon as it rings the agent, before the
   * gateway has its media ready to wait for it.
   */
  accept(): boolean {
    if (this.pendingAccept) {
      this.pendingAccept(true);
      return true;
    }
    if (this.state !== 'ringing' || this.endedPromise) return false;
    this.acceptedEarly = true;
    return true;
  }

  /**
   * The one way out. Resolves when teardown (including our BYE's answer) is done. A call never
   * answered gets its final refusal here (`refusal`, else the one its reason implies).
   */
  end(reason: EndReason, refusal?: Refusal): Promise<void> {
    if (this.endedPromise) return this.endedPromise;
    // Set before anything else: the BYE below makes the dialog report its end synchronously,
    // which re-enters end() and must find the call already ending.
    let done!: () => void;
    this.endedPromise = new Promise<void>((r) => (done = r));
    this.endReason = reason;
    this.move('end');
    for (const t of this.timers) t.cancel();
    this.pendingAccept?.(false);
    if (!this.dialog) {
      // Never answered: the INVITE gets its final response now (a no-op after CANCEL's 487).
      const r = refusal ?? refusalFor(reason);
      if (this.invite.state === 'pending') {
        this.refusedWith = r.status;
        this.log.info({ status: r.status, reason: r.reason, endReason: reason }, 'INVITE refused');
      }
      this.invite.reject(r.status, r.reason, r.headers);
    }
    // §15.1.1: the session is over once our BYE is sent, so media and agent are released
    // without waiting for the BYE's answer; the returned promise still waits for it (drain).
    const byeReason = BYE_REASON[reason];
    const bye =
      this.dialog && this.dialog.state !== 'terminated'
        ? this.dialog.bye('local-bye', byeReason ? { Reason: byeReason } : {})
        : Promise.resolve();
    this.media.close(reason);
    try {
      this.releaseAgent(this);
    } catch (e) {
      // A bug in the wrap-up plan must not leave the call half-ended: it is counted and logged,
      // and the agent stays out of service (never Ready while its platform may hold it).
      faults.record('call.wrap-up', e, { callId: this.info.callId, agent: this.info.agentId }, this.log);
    }
    const durationMs = Math.round(this.clock.now() - this.startedMono);
    this.endedBy ??= endedByFor(reason);
    this.endedAt = this.clock.wall();
    this.durationMs = durationMs;
    // The final record waits for the media plane's last counters (they come after the close),
    // at most FINAL_STATS_WAIT_MS; a worker that never answers leaves the last ones it reported.
    const media = this.media;
    let timer: TimerHandle | undefined;
    const waited = new Promise<MediaSessionStats>((resolve) => (timer = this.clock.set(FINAL_STATS_WAIT_MS, () => resolve(media.stats))));
    this.recorded = Promise.race([media.final, waited]).then((stats) => {
      timer?.cancel();
      this.finalStats = stats;
      this.log.info({ reason, endedBy: this.endedBy, durationMs, media: stats }, 'call ended');
    });
    this.events$.next({ type: 'ended', reason, durationMs });
    this.events$.complete();
    this.state$.complete();
    void bye.then(done);
    return this.endedPromise;
  }
}
