import { describe, expect, it } from 'vitest';
import { Faults, faults, guard } from './faults.js';

describe('the fault boundary', () => {
  it('guard contains a throw and a rejected promise, counts them by where, and lets onFault answer', async () => {
    const before = faults.counts.get('test.sync') ?? 0;
    const answered: string[] = [];
    const logged: Record<string, unknown>[] = [];
    const log = { error: (o: Record<string, unknown>) => void logged.push(o) };
    const sync = guard('test.sync', (x: string) => {
      throw new Error(`bad ${x}`);
    }, { log, context: (x) => ({ callId: x }), onFault: (_e, x) => answered.push(x) });
    expect(() => sync('c1')).not.toThrow();
    expect(faults.counts.get('test.sync')).toBe(before + 1);
    expect(answered).toEqual(['c1']);
    expect(logged[0]).toMatchObject({ callId: 'c1', where: 'test.sync', err: { message: 'bad c1' } });

    const asyncBefore = faults.counts.get('test.async') ?? 0;
    guard('test.async', async () => {
      await Promise.resolve();
      throw new Error('later');
    }, { log })();
    await expect.poll(() => faults.counts.get('test.async')).toBe(asyncBefore + 1);
  });

  it('a throwing onFault or logger is itself contained', () => {
    const f = guard('test.nested', () => {
      throw new Error('first');
    }, { log: { error: () => { throw new Error('logger broke'); } }, onFault: () => { throw new Error('answer broke'); } });
    expect(() => f()).not.toThrow();
    expect(faults.counts.get('test.nested.onFault')).toBeGreaterThanOrEqual(1);
  });

  it('a listener sees every fault (how media workers forward theirs to the main thread)', () => {
    const local = new Faults();
    const seen: string[] = [];
    local.onRecord((where, err, ctx) => seen.push(`${where}:${err.message}:${String(ctx['callId'])}`));
    local.record('media.rtp', new Error('short packet'), { callId: 'x' });
    local.record('media.rtp', 'not an Error');
    expect(seen).toEqual(['media.rtp:short packet:x', 'media.rtp:not an Error:undefined']);
    expect(local.counts.get('media.rtp')).toBe(2);
    expect(local.total).toBe(2);
  });
});
