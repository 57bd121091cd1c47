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
 * - event-loop utilization: the share of the window the main thread was busy. Past the knee it is
 *   100 % while the delay stays far under its limit (bench:calls); for calls a contact center
 *   routes it drives the Ready gate (./ready-gate.ts), not 503s;
 * - media lateness: the worst 20 ms tick lateness the media workers reported in their last window;
 * - wrap-up steps pending, and the age of the oldest one: the contact center's API is not keeping
 *   up (slow answers, timeouts); more calls would only make it slower;
 * - calls in setup (routed, not yet answered): INVITEs queueing inside the gateway.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

export interface OverloadLimits {
  eventLoopDelayMs: number;
  /** Percent 0..100. */
  eventLoopUtilization: number;
  mediaLatenessMs: number;
  pendingWrapUps: number;
  wrapUpAgeMs: number;
  callsInSetup: number;
}

export interface OverloadSignals {
  /** p99 event-loop delay of the last window, ms. */
  eventLoopDelayMs(): number;
  /** Percent of the last window the main thread was busy. */
  eventLoopUtilization(): number;
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
    ['eventLoopUtilization', s.eventLoopUtilization],
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

/** The limits with only `keep` in force: every other signal off (0). */
export function only(limits: OverloadLimits, keep: readonly OverloadSignal[]): OverloadLimits {
  const out = { ...limits };
  for (const k of Object.keys(out) as OverloadSignal[]) if (!keep.includes(k)) out[k] = 0;
  return out;
}

const WINDOW_MS = 500;

/**
 * The main thread's event-loop delay (p99) and utilization (the share of the time the loop was
 * busy, perf_hooks.eventLoopUtilization), over consecutive 500 ms windows, each the lower of the
 * last two (one garbage collection or a start-up burst is not overload; two windows in a row are).
 * Utilization sees a saturated loop that timers alone do not: a loop kept busy by a steady stream
 * of short I/O callbacks fires its timers nearly on time while datagrams wait in the socket's
 * buffer, where no in-process clock sees them, until the peers' retransmission timers fire.
 */
export class EventLoopDelay {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private last = 0;
  private prev = 0;
  private eluMark: EventLoopUtilization = performance.eventLoopUtilization();
  private eluLast = 0;
  private eluPrev = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.h.enable();
    this.timer = setInterval(() => {
      this.prev = this.last;
      this.last = this.h.count > 0 ? this.h.percentile(99) / 1e6 : 0;
      this.h.reset();
      const now = performance.eventLoopUtilization();
      this.eluPrev = this.eluLast;
      this.eluLast = performance.eventLoopUtilization(now, this.eluMark).utilization;
      this.eluMark = now;
    }, WINDOW_MS);
    this.timer.unref();
  }

  get p99Ms(): number {
    return Math.min(this.last, this.prev);
  }

  /** Percent of the time the main thread was busy (0..100). */
  get utilizationPercent(): number {
    return Math.min(this.eluLast, this.eluPrev) * 100;
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}

/** How often the shed share is adjusted. */
const ADJUST_MS = 500;

/**
 * Which share of new calls to refuse: on/off shedding refuses every call while a signal is over
 * and none once it is back under, and the bursts it admits push the signal over again (in
 * bench:calls goodput swung with it). Instead, while a soft signal is over its limit the share
 * doubles every 500 ms (from 1/8, or at once to how far over it is: at twice the limit, all), and
 * it halves every 500 ms once all are under (a slower decay, 1/16 per 500 ms, kept refusing calls
 * for seconds after the cause was gone: BENCHMARKS.md, issue 14). Calls are refused evenly (a
 * credit counter, no randomness). Calls in setup is a hard limit: over it, every call is refused
 * at once.
 */
export class ShedController {
  private share = 0;
  private credit = 0;
  private lastAdjust = -Infinity;
  private last: ReturnType<typeof overloaded> = null;

  constructor(
    private readonly limits: () => OverloadLimits,
    private readonly signals: OverloadSignals,
    private readonly now: () => number,
    /** Signals this controller does not refuse calls for (another control answers them). */
    private readonly ignore: readonly OverloadSignal[] = [],
  ) {}

  /** The share of calls refused now (0..1). */
  get shedShare(): number {
    return this.share;
  }

  /** Null to take this call; otherwise the signal (over its limit now or lately) it is refused for. */
  decide(): ReturnType<typeof overloaded> {
    const limits = { ...this.limits() };
    for (const k of this.ignore) limits[k] = 0;
    const hard = overloaded(only(limits, ['callsInSetup']), this.signals);
    if (hard) return hard;
    const t = this.now();
    if (t - this.lastAdjust >= ADJUST_MS) {
      // Windows with no call in them count too: a quiet gateway recovers while nobody calls.
      const windows = this.lastAdjust === -Infinity ? 1 : Math.min(16, Math.floor((t - this.lastAdjust) / ADJUST_MS));
      this.lastAdjust = t;
      const over = overloaded({ ...limits, callsInSetup: 0 }, this.signals);
      if (over) {
        this.last = over;
        // Doubling, but at once to how far over the limit the signal is (twice the limit: all).
        this.share = Math.min(1, Math.max(this.share === 0 ? 0.125 : this.share * 2, (over.value - over.limit) / over.limit));
      } else {
        this.share /= 2 ** windows;
        if (this.share < 1 / 32) this.share = 0;
      }
    }
    if (this.share === 0) {
      this.credit = 0;
      return null;
    }
    this.credit += this.share;
    if (this.credit < 1) return null;
    this.credit -= 1;
    return this.last;
  }
}
