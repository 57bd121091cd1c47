/**
 * Goertzel single-frequency detection: the energy of one DFT bin in O(n). Used by the tests to
 * prove a tone crossed the gateway, and by DTMF detection (ITU-T Q.24 row/column tones).
 */
export function goertzelPower(samples: ArrayLike<number>, freq: number, sampleRate: number): number {
  const k = (2 * Math.cos((2 * Math.PI * freq) / sampleRate));
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/** Total signal energy, for relative thresholds. */
export function energy(samples: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < samples.length; i++) e += samples[i]! * samples[i]!;
  return e;
}

/**
 * True when `freq` carries at least `minShare` of the block's energy. The Goertzel bin power is
 * about energy * n / 2 for a pure tone at the bin frequency.
 */
export function hasTone(samples: ArrayLike<number>, freq: number, sampleRate: number, minShare = 0.5): boolean {
  const e = energy(samples);
  if (e === 0 || samples.length === 0) return false;
  return goertzelPower(samples, freq, sampleRate) / ((e * samples.length) / 2) >= minShare;
}

/**
 * True when `freq` holds for at least `minMs` of consecutive 20 ms blocks of 8 kHz audio: a tone
 * that is there, not a click that happens to land in one block.
 */
export function hasSustainedTone(samples: Int16Array, freq: number, minMs: number, minShare = 0.5): boolean {
  let run = 0;
  for (let i = 0; i + 160 <= samples.length; i += 160) {
    run = hasTone(samples.subarray(i, i + 160), freq, 8000, minShare) ? run + 20 : 0;
    if (run >= minMs) return true;
  }
  return false;
}

/** Blocks of samples joined into one buffer. */
export function concatSamples(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const KEYS = ['123A', '456B', '789C', '*0#D'];

/** The DTMF digit in a block (>= 20 ms), or null. */
export function detectDtmf(samples: ArrayLike<number>, sampleRate: number): string | null {
  const e = energy(samples);
  if (e === 0) return null;
  const norm = (e * samples.length) / 2;
  const share = (f: number): number => goertzelPower(samples, f, sampleRate) / norm;
  const r = ROWS.map(share);
  const c = COLS.map(share);
  const ri = r.indexOf(Math.max(...r));
  const ci = c.indexOf(Math.max(...c));
  // Both tones present, each a real share of the energy (two equal tones: ~0.5 each).
  if (r[ri]! < 0.2 || c[ci]! < 0.2) return null;
  return KEYS[ri]![ci]!;
}
