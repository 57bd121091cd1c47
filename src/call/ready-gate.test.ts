/**
 * The Ready gate: an AIMD cap on calls up plus agents offered, on a fake clock. Each 500 ms step
 * with a signal over its limit lowers the cap to 90 % of what is in service; each calm step raises
 * it by 5 %; past the number of agents there is no cap. Readys over the cap wait in order.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from '../util/clock.js';
import { ReadyGate } from './ready-gate.js';

function gate(o: { inService: number; over: boolean; agents?: number }) {
  const clock = new FakeClock();
  const g = new ReadyGate({
    clock,
    inService: () => o.inService,
    overloaded: () => o.over,
    minLimit: 4,
    agents: () => o.agents ?? 1000,
  });
  g.start();
  return { g, clock };
}

/** Which of these promises have resolved (after the microtasks ran). */
async function settled(ps: Promise<void>[]): Promise<boolean[]> {
  const done = ps.map(() => false);
  ps.forEach((p, i) => void p.then(() => (done[i] = true)));
  await flush();
  return done;
}

describe('ReadyGate', () => {
  it('lets every Ready through while no signal is over its limit (no cap)', async () => {
    const s = { inService: 900, over: false };
    const { g, clock } = gate(s);
    await clock.run(5000);
    expect(g.limit).toBeNull();
    expect(await settled([g.admit(), g.admit()])).toEqual([true, true]);
    expect(g.stats.held).toBe(0);
  });

  it('lowers the cap to 90 % of what is in service per overloaded step, holds Readys over it, and lets them in order as calls end', async () => {
    const s = { inService: 500, over: true };
    const { g, clock } = gate(s);
    await clock.run(500);
    expect(g.limit).toBe(450);
    await clock.run(500);
    // 90 % of the lower of the cap and what is in service.
    expect(g.limit).toBe(405);
    const waiting = [g.admit(), g.admit(), g.admit()];
    expect(await settled(waiting)).toEqual([false, false, false]);
    expect(g.waiting).toBe(3);
    s.over = false;
    s.inService = 403; // two calls ended: room for two
    g.wake();
    expect(await settled(waiting)).toEqual([true, true, false]);
    // A Ready that comes now queues behind the one still waiting.
    s.inService = 405;
    const later = g.admit();
    s.inService = 404;
    g.wake();
    expect(await settled([waiting[2]!, later])).toEqual([true, false]);
    expect(g.stats).toMatchObject({ held: 4, decreases: 2 });
  });

  it('raises the cap by 5 % per calm step, and drops it past the number of agents', async () => {
    const s = { inService: 100, over: true, agents: 100 };
    const { g, clock } = gate(s);
    await clock.run(500);
    expect(g.limit).toBe(90);
    s.over = false;
    await clock.run(500);
    expect(g.limit).toBe(95);
    await clock.run(500);
    expect(g.limit).toBeNull();
  });

  it('lifts the cap after 10 s without a signal over its limit, however low it fell', async () => {
    const s = { inService: 5, over: true, agents: 1600 };
    const { g, clock } = gate(s);
    await clock.run(2000);
    expect(g.limit).toBe(4);
    s.over = false;
    await clock.run(9500);
    // 19 calm steps: grown by 5 % (at least 1) a step, still capped.
    expect(g.limit).toBe(25);
    await clock.run(500);
    expect(g.limit).toBeNull();
  });

  it('never caps below its floor, and stop lets every waiting Ready go', async () => {
    const s = { inService: 3, over: true };
    const { g, clock } = gate(s);
    await clock.run(5000);
    expect(g.limit).toBe(4);
    s.inService = 10;
    const held = [g.admit(), g.admit()];
    expect(await settled(held)).toEqual([false, false]);
    g.stop();
    expect(await settled(held)).toEqual([true, true]);
    expect(g.limit).toBeNull();
    await clock.run(5000);
    expect(g.limit).toBeNull();
  });
});
