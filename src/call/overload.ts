/**
 * Overload without collapse: the gateway refuses new calls early (503 with Retry-After) while its
 * headroom is gone, instead of taking every call and letting all of them queue. A call refused
 * this way costs an INVITE, a 503 and its wrap-up at the contact center (the platform routed it:
 * its agent needs a term code and Ready, and Ready comes Retry-After later, so the platform's
 * offered load falls while the gateway recovers). Calls already accepted always finish.
 *
 * The signals, each with its limit (gateway.overload; 0 = off):
 * - event-loop delay: p99 over the last window (perf_hooks.monitorEventLoopDelay): the main
 *   thread, where SIP, call control and the contact-center API run;
 * - media lateness: the worst 20 ms tick lateness the media workers reported in their last window;
 * - wrap-up steps pending, and the age of the oldest one: the contact center's API is not keeping
 *   up (slow answers, timeouts); more calls would only make it slower;
 * - calls in setup (routed, not yet answered): INVITEs queueing inside the gateway.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface OverloadLimits {
  eventLoopDelayMs: number;
  mediaLatenessMs: number;
  pendingWrapUps: number;
  wrapUpAgeMs: number;
  callsInSetup: number;
}

export interface OverloadSignals {
  /** p99 event-loop delay of the last window, ms. */
  eventLoopDelayMs(): number;
  mediaLatenessMs(): number;
  pendingWrapUps(): number;
  /** Age of the oldest wrap-up step the contact center has not confirmed, ms. */
  wrapUpAgeMs(): number;
  callsInSetup(): number;
}

export type OverloadSignal = keyof OverloadLimits;

/** Which signal is over its limit now (the first found), or null. Pure. */
export function overloaded(limits: OverloadLimits, s: OverloadSignals): { signal: OverloadSignal; value: number; limit: number } | null {
  const checks: [OverloadSignal, () => number][] = [
    ['callsInSetup', s.callsInSetup],
    ['pendingWrapUps', s.pendingWrapUps],
    ['wrapUpAgeMs', s.wrapUpAgeMs],
    ['eventLoopDelayMs', s.eventLoopDelayMs],
    ['mediaLatenessMs', s.mediaLatenessMs],
  ];
  for (const [signal, read] of checks) {
    const limit = limits[signal];
    if (limit <= 0) continue;
    const value = read();
    if (value > limit) return { signal, value, limit };
  }
  return null;
}

const WINDOW_MS = 500;

/**
 * The main thread's event-loop delay: p99 of consecutive 500 ms windows, the lower of the last
 * two (one garbage collection or a start-up burst is not overload; two windows in a row are).
 */
export class EventLoopDelay {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private last = 0;
  private prev = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.h.enable();
    this.timer = setInterval(() => {
      this.prev = this.last;
      this.last = this.h.count > 0 ? this.h.percentile(99) / 1e6 : 0;
      this.h.reset();
    }, WINDOW_MS);
    this.timer.unref();
  }

  get p99Ms(): number {
    return Math.min(this.last, this.prev);
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}
