/**
 * A dialog's session timer (RFC 4028): which side refreshes and when, for either dialog role.
 * The dialog does the refreshing and the BYE; this only keeps interval, refresher and the timer.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { SipRequest, SipResponse } from './message.js';
import { expiryMs, negotiate, refreshMs, type SessionTimerConfig } from './session-timer.js';

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
    const se = res.headers.get('Session-Expires');
    const m = se ? /^\s*(\d+)\s*(?:;\s*refresher=(uac|uas))?/i.exec(se) : null;
    if (!m) return false;
    this.interval = Number(m[1]);
    this.weRefresh = (m[2] ?? 'uac').toLowerCase() === 'uac';
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
