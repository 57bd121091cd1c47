/**
 * One call: the SIP dialog, the media session and the leased agent, owned together. Every way a
 * call can end funnels into `end(reason)`, which is idempotent and tears down in one order:
 * state -> timers -> BYE (if we are the ones ending) -> media -> agent -> `ended` event.
 */
import { BehaviorSubject, Subject } from 'rxjs';
import type { Logger } from 'pino';
import type { Dialog, DialogEndReason } from '../sip/dialog.js';
import type { EngineControl, MediaSession } from '../../media/types.js';
import type { VendorAdapter, VendorCallIds } from '../vendors/types.js';
import type { DtmfDigit } from './dtmf.js';
import { BYE_REASON, transition, type CallInput, type CallState, type EndReason } from './state.js';

export type CallEvent =
  | { type: 'dtmf'; digit: DtmfDigit; via: 'info' | 'rtp' }
  | { type: 'control'; control: EngineControl }
  | { type: 'media-updated'; direction: string }
  | { type: 'ended'; reason: EndReason; durationMs: number };

export interface CallInfo {
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

export class Call {
  readonly state$: BehaviorSubject<CallState>;
  readonly events$ = new Subject<CallEvent>();
  private dialog?: Dialog;
  private timers: NodeJS.Timeout[] = [];
  private endedPromise?: Promise<void>;
  endReason?: EndReason;
  /** Term code the engine gave with its hangup (the contact-center wrap-up uses it). */
  termCode?: string;
  private transferring = false;
  /** Our own hold (API or engine): the caller hears silence instead of the engine. */
  onHold = false;

  get busyTransferring(): boolean {
    return this.transferring;
  }

  setHold(on: boolean): void {
    this.onHold = on;
    this.media.hold(on);
    this.log.info({ on }, 'hold from the gateway side');
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
  /** The vendor's ids for this call (LiveVox: callTransactionId, callSessionId, ...). */
  vendorIds?: VendorCallIds;

  constructor(
    readonly info: CallInfo,
    readonly media: MediaSession,
    private readonly releaseAgent: () => void,
    readonly log: Logger,
  ) {
    this.state$ = new BehaviorSubject<CallState>('ringing');
    media.onEnd = (reason, detail) => {
      this.log.warn({ reason, detail }, 'media ended the call');
      void this.end(reason);
    };
    media.onControl = (ev) => void this.control(ev);
    media.onDtmf = (digit) => {
      this.log.info({ digit }, 'DTMF received (RFC 4733)');
      this.events$.next({ type: 'dtmf', digit: { digit, durationMs: 0 }, via: 'rtp' });
    };
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
   * Transfer to a human through the contact center (LiveVox: phonebook conference, confirm the
   * human joined, leave the conference). Our leg then ends with the transfer term code.
   */
  private async vendorTransfer(ev: Extract<EngineControl, { type: 'transfer' }>): Promise<void> {
    const v = this.vendor!;
    this.transferring = true;
    try {
      await v.adapter.transfer(v.agentId, this.vendorIds ?? {}, { ...(ev.phonebook ? { phonebook: ev.phonebook } : {}), ...(ev.contact ? { contact: ev.contact } : {}) });
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
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /** The one way out. Resolves when teardown (including our BYE's answer) is done. */
  end(reason: EndReason): Promise<void> {
    if (this.endedPromise) return this.endedPromise;
    // Set before anything else: the BYE below makes the dialog report its end synchronously,
    // which re-enters end() and must find the call already ending.
    let done!: () => void;
    this.endedPromise = new Promise<void>((r) => (done = r));
    this.endReason = reason;
    this.move('end');
    for (const t of this.timers) clearTimeout(t);
    // §15.1.1: the session is over once our BYE is sent, so media and agent are released
    // without waiting for the BYE's answer; the returned promise still waits for it (drain).
    const byeReason = BYE_REASON[reason];
    const bye =
      this.dialog && this.dialog.state !== 'terminated'
        ? this.dialog.bye('local-bye', byeReason ? { Reason: byeReason } : {})
        : Promise.resolve();
    this.media.close(reason);
    this.releaseAgent();
    const durationMs = Date.now() - this.info.startedAt;
    this.log.info({ reason, durationMs, media: this.media.stats }, 'call ended');
    this.events$.next({ type: 'ended', reason, durationMs });
    this.events$.complete();
    this.state$.complete();
    void bye.then(done);
    return this.endedPromise;
  }
}
