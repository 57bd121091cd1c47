import { describe, expect, it } from 'vitest';
import { concealFrame } from './plc.js';

describe('concealFrame', () => {
  const prev = Int16Array.from({ length: 160 }, (_, i) => (i % 2 ? -8000 : 8000));

  it('repeats the previous frame 6 dB quieter per consecutive loss', () => {
    expect(concealFrame(prev, 1, 160)).toEqual(prev.map((v) => v / 2));
    expect(concealFrame(prev, 2, 160)).toEqual(prev.map((v) => v / 4));
    expect(concealFrame(prev, 3, 160)).toEqual(prev.map((v) => v / 8));
  });

  it('goes silent after three losses', () => {
    expect(concealFrame(prev, 4, 160)).toEqual(new Int16Array(160));
    expect(concealFrame(prev, 50, 160)).toEqual(new Int16Array(160));
  });

  it('is silence when nothing was received before', () => {
    expect(concealFrame(null, 1, 160)).toEqual(new Int16Array(160));
    expect(concealFrame(new Int16Array(0), 1, 160)).toEqual(new Int16Array(160));
  });

  it('fills n samples from a previous frame of another size, and never aliases it', () => {
    const small = Int16Array.of(100, 200, 300);
    expect([...concealFrame(small, 1, 7)]).toEqual([50, 100, 150, 50, 100, 150, 50]);
    expect(concealFrame(prev, 1, 80)).toHaveLength(80);
    const out = concealFrame(prev, 1, 160);
    out[0] = 1;
    expect(prev[0]).toBe(8000);
  });
});
