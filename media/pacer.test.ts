import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer.js';

describe('Pacer', () => {
  it('ticks on an absolute 20 ms grid: no cumulative drift, phases spread', async () => {
    const pacer = new Pacer(20);
    const dues: number[][] = [[], []];
    const stops = [0, 1].map((i) => pacer.add({ tick: (due) => void dues[i]!.push(due) }));
    await new Promise((r) => setTimeout(r, 500));
    stops.forEach((s) => s());
    for (const d of dues) {
      expect(d.length).toBeGreaterThanOrEqual(20);
      // Slots are exactly 20 ms apart however late each timer fired.
      for (let i = 1; i < d.length; i++) expect(d[i]! - d[i - 1]!).toBeCloseTo(20, 6);
    }
    // Two sessions do not share a phase.
    expect(Math.abs((dues[1]![0]! - dues[0]![0]!) % 20)).toBeGreaterThan(0.5);
    expect(pacer.size).toBe(0);
  });

  it('skips slots instead of bursting after the event loop was blocked', async () => {
    const pacer = new Pacer(20);
    let ticks = 0;
    const stop = pacer.add({ tick: () => void ticks++ });
    await new Promise((r) => setTimeout(r, 30));
    const until = performance.now() + 300;
    while (performance.now() < until) {
      /* block the loop for 300 ms */
    }
    const before = ticks;
    await new Promise((r) => setTimeout(r, 5));
    // Without skipping, the 15 missed slots would all fire now in one burst.
    expect(ticks - before).toBeLessThanOrEqual(2);
    expect(pacer.stats.skipped).toBeGreaterThanOrEqual(10);
    stop();
  });
});
