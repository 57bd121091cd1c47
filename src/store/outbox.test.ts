import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';

const file = () => path.join(mkdtempSync(path.join(tmpdir(), 'vagw-outbox-')), 'sub', 'outbox.jsonl');

describe('Outbox', () => {
  it('keeps what was put and not done across a reopen (a restart)', async () => {
    const f = file();
    const a = await Outbox.open<{ n: number }>(f);
    await a.put('c1:termCode', { n: 1 });
    await a.put('c1:ready', { n: 2 });
    await a.put('c2:termCode', { n: 3 });
    await a.done('c1:termCode');
    // No close(): as after a crash, only what was fsynced counts.
    const b = await Outbox.open<{ n: number }>(f);
    expect(b.pending().map((e) => [e.id, e.step.n])).toEqual([['c1:ready', 2], ['c2:termCode', 3]]);
    await b.close();
    await a.close();
  });

  it('ignores a torn last record (crash mid-write) and compacts on open', async () => {
    const f = file();
    const a = await Outbox.open<string>(f);
    await a.put('x', 'step-x');
    await a.done('x');
    await a.put('y', 'step-y');
    await a.close();
    appendFileSync(f, '{"t":"put","id":"z","st');
    const b = await Outbox.open<string>(f);
    expect(b.pending().map((e) => e.id)).toEqual(['y']);
    expect(readFileSync(f, 'utf8').trim().split('\n')).toHaveLength(1);
    await b.close();
  });

  it('group-commits concurrent writes and resolves each only once durable', async () => {
    const f = file();
    const a = await Outbox.open<number>(f);
    await Promise.all(Array.from({ length: 500 }, (_, i) => a.put(`s${i}`, i)));
    await Promise.all(Array.from({ length: 250 }, (_, i) => a.done(`s${i}`)));
    const b = await Outbox.open<number>(f);
    expect(b.size).toBe(250);
    expect(b.pending()[0]!.step).toBe(250);
    await Promise.all([a.close(), b.close()]);
  });

  it('put is idempotent for a pending id and done for an unknown id is a no-op', async () => {
    const a = await Outbox.open<number>(file());
    await a.put('k', 1);
    await a.put('k', 2);
    await a.done('nope');
    expect(a.pending().map((e) => e.step)).toEqual([1]);
    await a.close();
  });
});

describe('Outbox compaction under concurrent confirmations', () => {
  it('never overlaps compactions or writes to a replaced file (found by bench:calls)', async () => {
    const f = file();
    const a = await Outbox.open<number>(f, { compactAfter: 20 });
    // Waves of puts and dones in flight together, crossing the compaction threshold many times.
    for (let wave = 0; wave < 10; wave++) {
      const ids = Array.from({ length: 50 }, (_, i) => `w${wave}-${i}`);
      await Promise.all(ids.map((id, i) => a.put(id, i)));
      await Promise.all([...ids.slice(0, 45).map((id) => a.done(id)), a.put(`extra-${wave}`, wave)]);
    }
    expect(a.size).toBe(10 * 5 + 10);
    const b = await Outbox.open<number>(f);
    expect(b.pending().map((e) => e.id).sort()).toEqual(a.pending().map((e) => e.id).sort());
    await Promise.all([a.close(), b.close()]);
  });
});
