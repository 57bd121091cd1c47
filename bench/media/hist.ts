/**
 * A fixed-resolution histogram of millisecond values (10 µs buckets up to 1 s by default) so the
 * bench processes can record hundreds of thousands of samples per step without keeping them,
 * and report percentiles over IPC as a few numbers.
 */
import type { IntervalHistogram } from 'node:perf_hooks';

export interface Summary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** Samples above the histogram's threshold (e.g. echoes later than 60 ms). */
  over: number;
}

/** perf_hooks event-loop delay as LoopDelay (ms), then restarted for the next window. */
export function loopDelay(h: IntervalHistogram): { p99: number; max: number } {
  const r = { p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  h.reset();
  return r;
}

export class Histogram {
  private readonly buckets: Uint32Array;
  count = 0;
  max = 0;
  over = 0;

  constructor(
    private readonly resolutionMs = 0.01,
    maxMs = 1000,
    private readonly thresholdMs = Infinity,
  ) {
    this.buckets = new Uint32Array(Math.ceil(maxMs / resolutionMs) + 1);
  }

  /** Record `n` samples of `ms`. */
  add(ms: number, n = 1): void {
    const v = ms > 0 ? ms : 0;
    const i = Math.min(this.buckets.length - 1, Math.floor(v / this.resolutionMs));
    this.buckets[i]! += n;
    this.count += n;
    if (v > this.max) this.max = v;
    if (v > this.thresholdMs) this.over += n;
  }

  /** The upper edge of the bucket holding the p-th percentile sample (never above the max). */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.max, (i + 1) * this.resolutionMs);
    }
    return this.max;
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.max = 0;
    this.over = 0;
  }

  summary(): Summary {
    return { count: this.count, p50: this.percentile(50), p99: this.percentile(99), max: this.count ? this.max : null, over: this.over };
  }
}
