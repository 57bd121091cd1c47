import { describe, expect, it } from 'vitest';
import { decodeMuLaw, encodeMuLaw } from '../codec/g711.js';
import { hasTone } from '../dsp/goertzel.js';
import { ToneGenerator } from '../dsp/tone.js';
import { OpusMuLaw } from './opus.js';

const frames = (freq: number, n: number): Buffer[] => {
  const g = new ToneGenerator([freq], 8000, 10000);
  return Array.from({ length: n }, () => Buffer.from(encodeMuLaw(g.next(160))));
};

/** Encode then decode `input` through one codec; the last frame's tone after the codec delay settles. */
function roundTrip(c: OpusMuLaw, input: Buffer[]): { packets: Buffer[]; out: Buffer[] } {
  const packets = input.map((f) => c.encode(f));
  return { packets, out: packets.map((p) => c.decode(p)) };
}

describe('OpusMuLaw (opusscript WASM)', () => {
  it('round-trips a tone: 20 ms mu-law -> one Opus packet -> 160 mu-law samples', () => {
    const c = new OpusMuLaw();
    const { out } = roundTrip(c, frames(1000, 10));
    expect(out.every((f) => f.length === 160)).toBe(true);
    expect(hasTone(decodeMuLaw(out[9]!), 1000, 8000, 0.6)).toBe(true);
    c.delete();
    c.delete();
    expect(() => c.encode(frames(1000, 1)[0]!)).toThrow(/after delete/);
  });

  // opusscript 0.1.1's own wrapper put its PCM buffers at twice their malloc address: over other
  // instances' state, and past the heap from ~40 codecs per thread on (the media worker died with
  // "offset is out of bounds" at 50 Opus calls); its views also died when the heap grew.
  it('200 codecs in one thread (heap growth included) all work and do not disturb each other', () => {
    const input = frames(700, 8);
    // What a codec alone produces: libopus is deterministic for the same input and fresh state.
    const alone = new OpusMuLaw();
    const expected = roundTrip(alone, input).packets.map((p) => p.toString('hex'));
    alone.delete();

    const many = Array.from({ length: 200 }, () => new OpusMuLaw());
    for (let k = 0; k < input.length; k++) {
      // Interleaved: every codec encodes and decodes frame k before any goes on to k + 1.
      for (const [i, c] of many.entries()) {
        const p = c.encode(input[k]!);
        if (i % 37 === 0) expect(p.toString('hex')).toBe(expected[k]);
        expect(c.decode(p)).toHaveLength(160);
      }
    }
    // The first codecs still work after the heap grew under them.
    expect(hasTone(decodeMuLaw(roundTrip(many[0]!, frames(700, 6)).out[5]!), 700, 8000, 0.6)).toBe(true);
    for (const c of many) c.delete();
  });

  it('refuses an empty or oversized packet and reports a corrupt one as an error (the link drops it)', () => {
    const c = new OpusMuLaw();
    expect(() => c.decode(Buffer.alloc(0))).toThrow(/0 bytes/);
    expect(() => c.decode(Buffer.alloc(5000))).toThrow(/5000 bytes/);
    // A TOC byte announcing a code-3 packet with an impossible frame count.
    expect(() => c.decode(Buffer.from([0x03, 0x00]))).toThrow(/Opus decode failed/);
    c.delete();
  });
});
