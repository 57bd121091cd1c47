/**
 * Fault injection for the API routes (never the /__sim/ admin API): added latency, 503 answers
 * and dropped connections. With a `seed` the sequence of decisions is deterministic.
 */
import { LvCode } from '../wire.js';
import { SimError } from './records.js';

export interface Faults {
  /** Added before answering: a fixed delay or a uniform range [min, max]. */
  latencyMs?: number | [number, number];
  /** Share of requests (0..1) answered 503 `{ code, message: 'injected fault' }`. */
  errorRate?: number;
  /** Share of requests (0..1) whose socket is destroyed without an answer. */
  dropRate?: number;
  /** Only requests whose canonical path starts with one of these (default: all API paths). */
  only?: string[];
  /** Seed of the decision sequence; without one, decisions are random. */
  seed?: number;
}

export interface FaultDecision {
  delayMs: number;
  outcome: 'pass' | 'error' | 'drop';
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private faults: Faults = {};
  private random: () => number = Math.random;

  constructor(faults?: Faults) {
    this.set(faults ?? {});
  }

  /** Replace the faults (and restart the seeded sequence). */
  set(faults: Faults): void {
    this.faults = checkFaults(faults);
    this.random = faults.seed === undefined ? Math.random : seededRandom(faults.seed);
  }

  get current(): Faults {
    return structuredClone(this.faults);
  }

  decide(canonicalPath: string): FaultDecision {
    const f = this.faults;
    if (f.only && !f.only.some((p) => canonicalPath.startsWith(p))) return { delayMs: 0, outcome: 'pass' };
    let delayMs = 0;
    if (typeof f.latencyMs === 'number') delayMs = f.latencyMs;
    else if (f.latencyMs) delayMs = f.latencyMs[0] + this.random() * (f.latencyMs[1] - f.latencyMs[0]);
    const roll = this.random();
    const drop = f.dropRate ?? 0;
    const error = f.errorRate ?? 0;
    const outcome = roll < drop ? 'drop' : roll < drop + error ? 'error' : 'pass';
    return { delayMs: Math.round(delayMs), outcome };
  }
}

const bad = (why: string): SimError => new SimError(400, LvCode.invalidField, `invalid faults: ${why}`);
const rate = (v: unknown): boolean => v === undefined || (typeof v === 'number' && v >= 0 && v <= 1);
const ms = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Validate faults coming from the admin API (or options); throws a 400 SimError. */
export function checkFaults(x: unknown): Faults {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad('must be an object');
  const f = x as Record<string, unknown>;
  for (const k of Object.keys(f)) if (!['latencyMs', 'errorRate', 'dropRate', 'only', 'seed'].includes(k)) throw bad(`unknown key '${k}'`);
  const lat = f['latencyMs'];
  if (lat !== undefined && !ms(lat) && !(Array.isArray(lat) && lat.length === 2 && ms(lat[0]) && ms(lat[1]) && (lat[0] as number) <= (lat[1] as number))) {
    throw bad('latencyMs must be ms >= 0 or [min, max]');
  }
  if (!rate(f['errorRate'])) throw bad('errorRate must be within 0..1');
  if (!rate(f['dropRate'])) throw bad('dropRate must be within 0..1');
  if (((f['errorRate'] as number | undefined) ?? 0) + ((f['dropRate'] as number | undefined) ?? 0) > 1) throw bad('errorRate + dropRate must not exceed 1');
  const only = f['only'];
  if (only !== undefined && !(Array.isArray(only) && only.every((p) => typeof p === 'string'))) throw bad('only must be a list of path prefixes');
  if (f['seed'] !== undefined && !Number.isSafeInteger(f['seed'])) throw bad('seed must be an integer');
  return structuredClone(f) as Faults;
}
