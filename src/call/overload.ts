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
 * - wrap-up steps pending: the contact center is not keeping up;
 * - calls in setup (routed, not yet answered): INVITEs queueing inside the gateway.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface OverloadLimits {
  eventLoopDelayMs: number;
  mediaLatenessMs: number;
  pendingWrapUps: number;
  callsInSetup: number;
}

export interface OverloadSignals {
  /** p99 event-loop delay of the last window, ms. */
  eventLoopDelayMs(): number;
  mediaLatenessMs(): number;
  pendingWrapUps(): number;
  callsInSetup(): number;
}

export type OverloadSignal = keyof OverloadLimits;

/** Which signal is over its limit now (the first found), or null. Pure. */
export function overloaded(limits: OverloadLimits, s: OverloadSignals): { signal: OverloadSignal; value: number; limit: number } | null {
  const checks: [OverloadSignal, () => number][] = [
    ['callsInSetup', s.callsInSetup],
    ['pendingWrapUps', s.pendingWrapUps],
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

/** The main thread's event-loop delay, p99 of consecutive 500 ms windows. */
export class EventLoopDelay {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private last = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.h.enable();
    this.timer = setInterval(() => {
      this.last = this.h.count > 0 ? this.h.percentile(99) / 1e6 : 0;
      this.h.reset();
    }, WINDOW_MS);
    this.timer.unref();
  }

  get p99Ms(): number {
    return this.last;
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}
