/**
 * The wrap-up runner when the contact center refuses a term code: it reads the agent's status
 * before anything else, and never sends Ready for an agent the platform still holds on the call.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryOutbox } from '../store/outbox.js';
import { FakeClock, flush } from '../util/clock.js';
import { VendorError, type VendorAdapter, type VendorAgentState, type VendorCallIds, type WrapStep } from '../vendors/types.js';
import { WrapUpRunner } from './wrapup.js';

const log = pino({ level: 'silent' });

/** A platform that wants phoneDialed in the term code and reports the agent as `state`. */
function platform(state: VendorAgentState, call?: VendorCallIds) {
  const sent: string[] = [];
  const adapter: VendorAdapter = {
    name: 'strict',
    login: async () => undefined,
    ready: async (a) => void sent.push(`ready ${a}`),
    notReady: async (a, r) => void sent.push(`notReady ${a} ${r}`),
    logout: async () => undefined,
    status: async () => ({ state, ...(call ? { call } : {}) }),
    callIds: async (_a, h) => h,
    screenPop: async () => ({}),
    transfer: async () => undefined,
    setTermCode: async (a, ids, code) => {
      if (!ids.phoneDialed) throw new VendorError("missing field 'phoneDialed'", 'strict setTermCode', false, 400);
      sent.push(`termCode ${a} ${ids.transactionId} ${ids.phoneDialed} ${code}`);
    },
    updateContact: async () => undefined,
  };
  return { adapter, sent };
}

async function run(adapter: VendorAdapter, ids: VendorCallIds) {
  const clock = new FakeClock();
  const outbox = new MemoryOutbox<WrapStep>();
  const failed: string[] = [];
  const readyHook: string[] = [];
  const runner = new WrapUpRunner(outbox, () => adapter, { maxAttempts: 2, retryMs: 10, parkMs: 60_000 }, { ready: (a) => readyHook.push(a), failed: (a, _c, e) => failed.push(`${a}: ${e}`) }, log, clock);
  await runner.add([
    { kind: 'termCode', agentId: 'va-1', callId: 'c1', ids, termCode: 'Completed' },
    { kind: 'ready', agentId: 'va-1', callId: 'c1' },
  ]);
  for (let i = 0; i < 5; i++) await flush();
  return { runner, failed, readyHook, outbox, clock };
}

describe('WrapUpRunner: a refused term code is reconciled, never followed by a blind Ready', () => {
  it('sets the term code again with the ids of the agent status (same call), then Ready', async () => {
    const { adapter, sent } = platform('wrap-up', { transactionId: 'T1', sessionId: 'S1', phoneDialed: '3125550100' });
    const { runner, failed } = await run(adapter, { transactionId: 'T1', sessionId: 'S1' });
    expect(sent).toEqual(['termCode va-1 T1 3125550100 Completed', 'ready va-1']);
    expect(runner.stats).toMatchObject({ reconciled: 1, rejected: 0, failures: 0 });
    expect(failed).toEqual([]);
  });

  it('holds the agent out of service when the platform has it on another call: no Ready, reported, steps kept', async () => {
    const { adapter, sent } = platform('wrap-up', { transactionId: 'OTHER', sessionId: 'S9', phoneDialed: '3125550199' });
    const { runner, failed, readyHook } = await run(adapter, { transactionId: 'T1', sessionId: 'S1' });
    expect(sent).toEqual(['notReady va-1 wrap-up failed']);
    expect(readyHook).toEqual([]);
    expect(failed[0]).toMatch(/still has the agent on the call/);
    expect(runner.pendingFor('va-1')).toBe(2);
    expect(runner.stats).toMatchObject({ reconciled: 0, failures: 1 });
    runner.stop();
  });

  it('goes on to Ready when the platform does not hold the agent on a call (a call it never routed)', async () => {
    const { adapter, sent } = platform('ready');
    const { runner } = await run(adapter, { transactionId: 'NEVER', sessionId: 'S0' });
    expect(sent).toEqual(['ready va-1']);
    expect(runner.stats).toMatchObject({ rejected: 1, reconciled: 0 });
  });
});

describe('WrapUpRunner: a Ready refused after an attempt that may have taken effect', () => {
  async function readyRun(state: VendorAgentState) {
    const sent: string[] = [];
    let attempts = 0;
    const adapter: VendorAdapter = {
      ...platform(state).adapter,
      // The first Ready timed out on our side but reached the platform; the retry is refused.
      ready: async () => {
        attempts++;
        if (attempts === 1) throw new VendorError('timeout after 5000 ms', 'ready', true);
        throw new VendorError(`agent is ${state}`, 'ready', false, 409);
      },
      notReady: async (a, r) => void sent.push(`notReady ${a} ${r}`),
    };
    const clock = new FakeClock();
    const failed: string[] = [];
    const runner = new WrapUpRunner(new MemoryOutbox<WrapStep>(), () => adapter, { maxAttempts: 3, retryMs: 10 }, { ready: () => undefined, failed: (a) => failed.push(a) }, log, clock);
    await runner.add([{ kind: 'ready', agentId: 'va-1', callId: 'c1' }]);
    await clock.run(100);
    for (let i = 0; i < 5; i++) await flush();
    return { runner, sent, failed };
  }

  it('the platform has the agent on its next call: the Ready took effect, confirmed, nobody set NotReady', async () => {
    const { runner, sent, failed } = await readyRun('in-call');
    expect(runner.pendingTotal).toBe(0);
    expect(runner.stats).toMatchObject({ reconciled: 1, failures: 0 });
    expect(sent).toEqual([]);
    expect(failed).toEqual([]);
  });

  it('the platform still holds the agent in wrap-up: kept out of service and reported', async () => {
    const { runner, failed } = await readyRun('wrap-up');
    expect(runner.pendingTotal).toBe(1);
    expect(failed).toEqual(['va-1']);
    runner.stop();
  });
});

describe('WrapUpRunner: the order of a call\'s steps', () => {
  it('runs a call\'s term code before its Ready even when the store gives them back the other way round (read from Redis)', async () => {
    const { adapter, sent } = platform('wrap-up');
    const outbox = new MemoryOutbox<WrapStep>();
    // As a successor reads them back: Ready first.
    await outbox.put('c7:1:ready', { kind: 'ready', agentId: 'va-1', callId: 'c7' });
    await outbox.put('c7:0:termCode', { kind: 'termCode', agentId: 'va-1', callId: 'c7', ids: { transactionId: 'T7', phoneDialed: '3125550100' }, termCode: 'Completed' });
    const runner = new WrapUpRunner(outbox, () => adapter, { maxAttempts: 2, retryMs: 10 }, { ready: () => undefined, failed: () => undefined }, log, new FakeClock());
    runner.replay();
    for (let i = 0; i < 5; i++) await flush();
    expect(sent).toEqual(['termCode va-1 T7 3125550100 Completed', 'ready va-1']);
    expect(outbox.size).toBe(0);
  });
});

describe('WrapUpRunner: a Ready left by an earlier call', () => {
  it('is superseded by a later wrap-up (a call the platform holds the agent in wrap-up for): its term code first, one Ready', async () => {
    const { adapter, sent } = platform('wrap-up');
    const outbox = new MemoryOutbox<WrapStep>();
    // A dead owner confirmed call c1's term code, not its Ready; the platform then routed call T2.
    await outbox.put('c1:1:ready', { kind: 'ready', agentId: 'va-1', callId: 'c1' });
    const runner = new WrapUpRunner(outbox, () => adapter, { maxAttempts: 2, retryMs: 10 }, { ready: () => undefined, failed: () => undefined }, log, new FakeClock());
    expect(runner.pendingCalls('va-1')).toEqual([]);
    await runner.add([
      { kind: 'termCode', agentId: 'va-1', callId: 'orphan:T2', ids: { transactionId: 'T2', phoneDialed: '3125550100' }, termCode: 'Failed' },
      { kind: 'ready', agentId: 'va-1', callId: 'orphan:T2' },
    ]);
    for (let i = 0; i < 5; i++) await flush();
    expect(sent).toEqual(['termCode va-1 T2 3125550100 Failed', 'ready va-1']);
    expect(outbox.size).toBe(0);
  });
});
