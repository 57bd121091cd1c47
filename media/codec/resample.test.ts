import { describe, expect, it } from 'vitest';
import { Downsampler16to8, HALF_BAND_FIR, Upsampler8to16 } from './resample.js';
import { ToneGenerator } from '../dsp/tone.js';
import { energy, hasTone } from '../dsp/goertzel.js';

/** Feed `pcm` in `frame`-sample pieces and concatenate the outputs. */
function inFrames(proc: { process(x: Int16Array): Int16Array }, pcm: Int16Array, frame: number): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i < pcm.length; i += frame) parts.push(proc.process(pcm.subarray(i, i + frame)));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Skip the filter's start-up transient. */
const SETTLE = 64;

describe('half-band FIR', () => {
  it('is symmetric with unity DC gain', () => {
    expect(HALF_BAND_FIR.length).toBe(31);
    const sum = HALF_BAND_FIR.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 12);
    for (let i = 0; i < 31; i++) expect(HALF_BAND_FIR[i]).toBeCloseTo(HALF_BAND_FIR[30 - i]!, 15);
  });
});

describe('Upsampler8to16', () => {
  it('doubles the length and keeps a 1 kHz tone a tone', () => {
    const up = new Upsampler8to16();
    const pcm8 = new ToneGenerator([1000], 8000).next(1600);
    const pcm16 = up.process(pcm8);
    expect(pcm16.length).toBe(3200);
    const settled = pcm16.subarray(SETTLE);
    expect(hasTone(settled, 1000, 16000, 0.9)).toBe(true);
    // Level preserved: energy per sample about the same as the input (within 10%).
    const ratio = energy(settled) / settled.length / (energy(pcm8.subarray(SETTLE / 2)) / (pcm8.length - SETTLE / 2));
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
  });

  it('suppresses the 7 kHz image of a 1 kHz tone', () => {
    const pcm16 = new Upsampler8to16().process(new ToneGenerator([1000], 8000).next(1600)).subarray(SETTLE);
    const img = hasTone(pcm16, 7000, 16000, 0.001);
    expect(img).toBe(false);
  });

  it('gives identical output frame by frame and in one piece', () => {
    const pcm8 = new ToneGenerator([697, 1477], 8000, 20000).next(1600);
    const whole = new Upsampler8to16().process(pcm8);
    expect(inFrames(new Upsampler8to16(), pcm8, 160)).toEqual(whole);
    expect(inFrames(new Upsampler8to16(), pcm8, 37)).toEqual(whole);
  });
});

describe('Downsampler16to8', () => {
  it('halves the length and keeps a 1 kHz tone a tone', () => {
    const pcm8 = new Downsampler16to8().process(new ToneGenerator([1000], 16000).next(3200));
    expect(pcm8.length).toBe(1600);
    expect(hasTone(pcm8.subarray(SETTLE / 2), 1000, 8000, 0.9)).toBe(true);
  });

  it('strongly attenuates tones above 4 kHz that would alias into the voice band', () => {
    const level = (f: number): number => {
      const input = new ToneGenerator([f], 16000).next(3200);
      const out = new Downsampler16to8().process(input).subarray(SETTLE / 2);
      return energy(out) / out.length / (energy(input) / input.length);
    };
    expect(level(1000)).toBeGreaterThan(0.95);
    // 5 kHz would fold to 3 kHz, 6 kHz to 2 kHz: both at least 40 dB down.
    expect(level(5000)).toBeLessThan(1e-4);
    expect(level(6000)).toBeLessThan(1e-4);
    // 4.5 kHz (would fold to 3.5 kHz) sits in the transition band: still over 15 dB down.
    expect(level(4500)).toBeLessThan(10 ** -1.5);
  });

  it('gives identical output frame by frame and in one piece, including odd frame sizes', () => {
    const pcm16 = new ToneGenerator([1000, 5000], 16000, 20000).next(3200);
    const whole = new Downsampler16to8().process(pcm16);
    expect(inFrames(new Downsampler16to8(), pcm16, 320)).toEqual(whole);
    expect(inFrames(new Downsampler16to8(), pcm16, 33)).toEqual(whole);
  });

  it('round-trips 8 -> 16 -> 8 with the tone intact', () => {
    const pcm8 = new ToneGenerator([1000], 8000).next(1600);
    const back = inFrames(new Downsampler16to8(), inFrames(new Upsampler8to16(), pcm8, 160), 320);
    expect(back.length).toBe(1600);
    expect(hasTone(back.subarray(SETTLE), 1000, 8000, 0.9)).toBe(true);
  });
});
