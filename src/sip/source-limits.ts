/**
 * Per-source protection at the SIP edge, applied to each datagram or framed TCP message before it
 * is parsed, so a flood costs a map lookup, not a parse, a transaction and an answer:
 * - trust: a source outside the profile's trusted networks is ignored (no answer: an answer tells a
 *   scanner a SIP stack lives here and can be reflected at a spoofed victim), or, for debugging,
 *   answered 403;
 * - rate: each source address gets a token bucket of requests per second, so one address flooding
 *   INVITEs (even a trusted one misbehaving) cannot starve the carrier next to it.
 */
import type { Clock } from './clock.js';

export interface SourcePolicyOptions {
  /** Whether an address may talk to us at all. Absent: everyone may. */
  trusted?: (address: string) => boolean;
  /** What an untrusted source gets: nothing (default) or 403 (debugging). */
  untrusted: 'ignore' | 'reject';
  /** The 403's reason phrase for a source (default: `Source <ip> not trusted`). */
  rejectReason?: (address: string) => string;
  /** Messages per second per source address; 0 = no limit. */
  perSourceRate: number;
  /** Bucket depth (burst) in messages; default 2x the rate. */
  perSourceBurst?: number;
}

export type SourceVerdict = 'ok' | 'untrusted-ignore' | 'untrusted-reject' | 'rate-limited';

interface Bucket {
  tokens: number;
  last: number;
}

/** Buckets kept at most; past it idle ones go first, then the map is cleared (fail open, counted). */
const MAX_SOURCES = 100_000;

export class SourcePolicy {
  private buckets = new Map<string, Bucket>();
  private trustCache = new Map<string, boolean>();
  private lastSweep = 0;

  constructor(
    private readonly opts: SourcePolicyOptions,
    private readonly clock: Clock,
  ) {}

  rejectReason(address: string): string {
    return this.opts.rejectReason?.(address) ?? `Source ${address} not trusted`;
  }

  check(address: string): SourceVerdict {
    if (this.opts.trusted && !this.isTrusted(address)) return this.opts.untrusted === 'reject' ? 'untrusted-reject' : 'untrusted-ignore';
    return this.take(address) ? 'ok' : 'rate-limited';
  }

  private isTrusted(address: string): boolean {
    let t = this.trustCache.get(address);
    if (t === undefined) {
      t = this.opts.trusted!(address);
      if (this.trustCache.size >= MAX_SOURCES) this.trustCache.clear();
      this.trustCache.set(address, t);
    }
    return t;
  }

  private take(address: string): boolean {
    const rate = this.opts.perSourceRate;
    if (rate <= 0) return true;
    const burst = this.opts.perSourceBurst ?? rate * 2;
    const now = this.clock.now();
    let b = this.buckets.get(address);
    if (!b) {
      this.sweep(now, burst / rate);
      b = { tokens: burst, last: now };
      this.buckets.set(address, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((now - b.last) / 1000) * rate);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forget buckets idle long enough to be full again (they would behave as new ones). */
  private sweep(now: number, refillSeconds: number): void {
    if (this.buckets.size < MAX_SOURCES && now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    const idleMs = Math.max(1000, refillSeconds * 1000);
    for (const [k, b] of this.buckets) if (now - b.last > idleMs) this.buckets.delete(k);
    if (this.buckets.size >= MAX_SOURCES) this.buckets.clear();
  }

  get trackedSources(): number {
    return this.buckets.size;
  }
}
