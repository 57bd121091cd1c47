/**
 * Calls that die with the process: the open-call journal and the wrap-up outbox on disk, the
 * process "killed" between writes (the journals reopened without a close), and the next start's
 * recovery giving each call exactly one wrap-up.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../store/outbox.js';
import type { WrapStep } from '../vendors/types.js';
import { OpenCalls, type OpenCall } from './open-calls.js';

const call = (n: number, profile = 'p1'): OpenCall => ({ callId: `c${n}@h`, agentId: `va-0${n}`, profile, ids: { transactionId: `T${n}` }, answeredAt: 1000 + n });
const plan = (c: OpenCall): WrapStep[] | undefined =>
  c.profile === 'gone' ? undefined : [{ kind: 'termCode', agentId: c.agentId, callId: c.callId, ids: c.ids, termCode: 'AI Failure' }, { kind: 'ready', agentId: c.agentId, callId: c.callId }];

async function journals(dir: string) {
  const open = await Outbox.open<OpenCall>(path.join(dir, 'open-calls.jsonl'));
  const steps = await Outbox.open<WrapStep>(path.join(dir, 'wrapup-outbox.jsonl'));
  return { open, steps, calls: new OpenCalls(open) };
}

describe('open calls across a crash', () => {
  it('a call up when the process died gets the failed wrap-up once; one already queued is only forgotten; a gone profile is reported', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vagw-open-'));
    const before = await journals(dir);
    await before.calls.opened(call(1));
    await before.calls.opened(call(2));
    await before.calls.opened({ ...call(2), ids: { transactionId: 'T2', sessionId: 'S2' } }); // ids resolved after answer
    await before.calls.opened(call(3, 'gone'));
    // Call 2 ended and its wrap-up reached the outbox; the process died before its record went.
    for (const s of plan(call(2))!) await before.steps.put(`${s.callId}:${s.kind}`, s);
    // Call 4 ended cleanly: its record is gone.
    await before.calls.opened(call(4));
    await before.calls.closed(call(4).callId);

    const after = await journals(dir); // no close(): the journals as a SIGKILL leaves them
    expect(after.calls.list().map((c) => [c.callId, c.ids])).toEqual([
      ['c1@h', { transactionId: 'T1' }],
      ['c2@h', { transactionId: 'T2', sessionId: 'S2' }],
      ['c3@h', { transactionId: 'T3' }],
    ]);
    const recorded: WrapStep[] = [];
    const r = await after.calls.recover({
      plan,
      hasSteps: (id) => after.steps.pending().some((e) => e.step.callId === id),
      record: async (steps) => void recorded.push(...steps),
    });
    expect(r.wrapped.map((c) => c.callId)).toEqual(['c1@h']);
    expect(r.alreadyQueued.map((c) => c.callId)).toEqual(['c2@h']);
    expect(r.unknownProfile.map((c) => c.callId)).toEqual(['c3@h']);
    expect(recorded.map((s) => `${s.kind} ${s.callId}`)).toEqual(['termCode c1@h', 'ready c1@h']);
    expect(after.calls.size).toBe(0);

    // A second start finds nothing left to do: no wrap-up twice.
    const third = await journals(dir);
    expect(third.calls.size).toBe(0);
    for (const j of [before, after, third]) {
      await j.open.close();
      await j.steps.close();
    }
  });
});
