import { describe, expect, it } from 'vitest';
import { Pacer, RESCUE_LATE_MS } from './pacer.js';

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

  it('spreads sessions evenly over the 1 ms phases of the period', () => {
    let t = 1000;
    const pacer = new Pacer(20, () => t);
    const dues: number[] = [];
    const stops = Array.from({ length: 60 }, () => pacer.add({ tick: (due) => void dues.push(due) }));
    pacer.runDue((t = 1000 + 25));
    const perPhase = new Map<number, number>();
    for (const d of dues) perPhase.set((d - 1000) % 20, (perPhase.get((d - 1000) % 20) ?? 0) + 1);
    expect([...perPhase.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect([...perPhase.values()].every((n) => n === 3)).toBe(true);
    // A session that leaves frees its phase for the next one.
    stops[5]!();
    const at: number[] = [];
    pacer.add({ tick: (due) => void at.push(due) });
    pacer.runDue((t = 1000 + 60));
    expect((at[0]! - 1000) % 20).toBe(5);
    pacer.stop();
  });

  it('runDue ticks only when a tick is overdue by RESCUE_LATE_MS, then everything due', () => {
    let t = 0;
    const pacer = new Pacer(20, () => t);
    const ticks: string[] = [];
    pacer.add({ tick: () => void ticks.push('a') }); // phase 0
    pacer.add({ tick: () => void ticks.push('b') }); // phase 1
    pacer.runDue((t = RESCUE_LATE_MS - 0.1));
    expect(ticks).toEqual([]);
    pacer.runDue((t = RESCUE_LATE_MS + 0.1));
    expect(ticks).toEqual(['a', 'b']);
    pacer.runDue((t = 20 + RESCUE_LATE_MS - 0.1));
    expect(ticks).toEqual(['a', 'b']);
    pacer.runDue((t = 21 + RESCUE_LATE_MS));
    expect(ticks).toEqual(['a', 'b', 'a', 'b']);
    pacer.stop();
  });
});
