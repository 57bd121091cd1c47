/**
 * A dialog's session timer (RFC 4028): which side refreshes and when, for either dialog role.
 * The dialog does the refreshing and the BYE; this only keeps interval, refresher and the timer.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { SipRequest, SipResponse } from './message.js';
import { expiryMs, MAX_SESSION_INTERVAL, negotiate, parseSessionExpires, refreshMs, type SessionTimerConfig } from './session-timer.js';

export interface SessionTimerHooks {
  /** We are the refresher and half the interval passed (§7.2): refresh, then call `arm`. */
  refresh(interval: number): void;
  /** The peer refreshes and the interval ran out without it (§10). */
  expired(interval: number): void;
}

export class DialogSessionTimer {
  private handle?: TimerHandle;
  private weRefresh = false;
  interval = 0;

  constructor(
    private readonly clock: Clock,
    private readonly cfg: SessionTimerConfig,
    private readonly hooks: SessionTimerHooks,
  ) {}

  /** A request of the peer's that we answer 2xx (§9): we are its UAS. */
  fromRequest(req: SipRequest): void {
    this.stop();
    const n = negotiate(req, this.cfg);
    if (n.kind !== 'use') return;
    this.interval = n.timer.interval;
    this.weRefresh = n.timer.refresher === 'uas';
    this.arm();
  }

  /**
   * A 2xx to a request we sent (§7.2): its Session-Expires names the refresher, 'uac' being us.
   * Returns false (and leaves the timer as it was) when there is none.
   */
  fromResponse(res: SipResponse): boolean {
    const raw = res.headers.get('Session-Expires');
    const se = raw === undefined ? undefined : parseSessionExpires(raw);
    // A malformed value in a response is the peer's problem: no timer rather than a guess.
    if (!se || 'error' in se || se.interval < 1) return false;
    this.interval = Math.min(se.interval, MAX_SESSION_INTERVAL);
    this.weRefresh = (se.refresher ?? 'uac') === 'uac';
    return true;
  }

  arm(): void {
    this.stop();
    if (this.interval <= 0) return;
    const t = { interval: this.interval, refresher: this.weRefresh ? ('uas' as const) : ('uac' as const) };
    const interval = this.interval;
    if (this.weRefresh) this.handle = this.clock.set(refreshMs(t), () => this.hooks.refresh(interval));
    else this.handle = this.clock.set(expiryMs(t), () => this.hooks.expired(interval));
  }

  stop(): void {
    this.handle?.cancel();
    this.handle = undefined;
  }
}
