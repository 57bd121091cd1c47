/**
 * Zod builders whose error texts are what an operator reads: strict objects that suggest the
 * closest known key, numbers that accept \${VAR} strings, enums that list their values. Shared by
 * src/config/schema.ts and each platform's settings schema (src/vendors/<name>/settings.ts).
 */
import { z } from 'zod';
import { describe } from './problems.js';

export type Issue = { code?: string; input?: unknown; keys?: string[] };

/** `must be <what>, got <value>`, or `is required (<what>)` when absent. */
export const mustBe = (what: string) => (iss: Issue) =>
  iss.input === undefined ? `is required (${what})` : `must be ${what}, got ${describe(iss.input)}`;

/** Values produced by ${VAR} interpolation are strings; accept plain integer strings for numbers. */
export const toNumber = (v: unknown) => (typeof v === 'string' && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v);

export function intIn(min: number, max: number, what = `an integer ${min}..${max}`, step = 1) {
  const error = mustBe(what);
  let n = z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
  if (step > 1) n = n.multipleOf(step, { error });
  return z.preprocess(toNumber, n);
}

export function stringWhere(what: string, ok: (s: string) => boolean) {
  const error = mustBe(what);
  return z.string({ error }).refine(ok, { error });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: mustBe(`one of ${values.join(', ')}`) });
}

/** Strict object whose unknown-key message suggests the closest known key. */
export function obj<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  // One line per unknown key; the loader splits them back into one problem each.
  const error = (iss: Issue) =>
    iss.code === 'unrecognized_keys'
      ? (iss.keys ?? []).map((k) => `unknown key '${k}'${suggest(k, known)}`).join('\n')
      : iss.code === 'invalid_type'
        ? mustBe('a mapping')(iss)
        : undefined;
  return z.strictObject(shape, { error });
}

function suggest(key: string, known: string[]): string {
  const lower = key.toLowerCase();
  let best = '';
  let bestDist = 3; // only suggest for near misses
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDist) [best, bestDist] = [k, d];
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

export function list<T extends z.ZodType>(item: T, what: string, emptyError: string) {
  // abort: refinements of an empty list (e.g. "needs an audio codec") would only repeat the problem.
  return z.array(item, { error: mustBe(what) }).min(1, { error: emptyError, abort: true });
}

/** A list without repeated entries (repeats are always a copy-paste mistake here). */
