import { afterEach, describe, expect, it } from 'vitest';
import { loginRaw, raw, readyAgent, startSim } from '../test-fixtures.js';
import { LvCode } from '../wire.js';
import { FaultInjector } from './faults.js';
import type { LiveVoxSimulator } from './index.js';

let sim: LiveVoxSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const A = '/callControl/agent';

describe('LiveVox simulator: faults', () => {
  it('answers 503 injected fault at errorRate 1, only on the chosen paths', async () => {
    sim = await startSim();
    const s = await loginRaw(sim);
    sim.setFaults({ errorRate: 1, only: [`${A}/status`] });
    expect(await raw(sim, 'POST', `${A}/status`, { session: s })).toMatchObject({ status: 503, code: LvCode.injectedFault, message: 'injected fault' });
    expect(await raw(sim, 'POST', `/callControl/v6.0/agent/status/ready`, { session: s })).toMatchObject({ status: 503 });
    expect((await raw(sim, 'GET', `${A}/termCode?serviceId=1001`, { session: s })).status).toBe(200);
    expect((await raw(sim, 'GET', '/__sim/state')).status).toBe(200);
    expect(sim.state.requestCounts()).toMatchObject({ [`FAULT error POST ${A}/status`]: 1 });
  });

  it('drops the connection at dropRate 1', async () => {
    sim = await startSim({ faults: { dropRate: 1 } });
    await expect(fetch(`${sim.url}/session/login`, { method: 'POST' })).rejects.toThrow();
  });

  it('adds latency', async () => {
    sim = await startSim({ faults: { latencyMs: [60, 80] } });
    const t = Date.now();
    await raw(sim, 'POST', `${A}/status`);
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
  });

  it('is deterministic when seeded', () => {
    const run = (): string[] => {
      const f = new FaultInjector({ errorRate: 0.3, dropRate: 0.2, latencyMs: [0, 100], seed: 42 });
      return Array.from({ length: 50 }, () => {
        const d = f.decide('/callControl/agent/status');
        return `${d.outcome}:${d.delayMs}`;
      });
    };
    const a = run();
    expect(run()).toEqual(a);
    expect(new Set(a.map((x) => x.split(':')[0]))).toEqual(new Set(['pass', 'error', 'drop']));
  });
});

describe('LiveVox simulator: admin API', () => {
  it('sets and validates faults, and expires sessions', async () => {
    sim = await startSim();
    expect(await raw(sim, 'POST', '/__sim/faults', { body: { errorRate: 2 } })).toMatchObject({ status: 400, message: 'invalid faults: errorRate must be within 0..1' });
    expect(await raw(sim, 'POST', '/__sim/faults', { body: { bogus: 1 } })).toMatchObject({ status: 400, message: "invalid faults: unknown key 'bogus'" });
    expect((await raw(sim, 'POST', '/__sim/faults', { body: { errorRate: 1, seed: 7 } })).body).toEqual({ errorRate: 1, seed: 7 });
    expect((await raw(sim, 'POST', `${A}/status`)).status).toBe(503);
    expect((await raw(sim, 'POST', '/__sim/faults', { body: {} })).status).toBe(200);
    const s = await loginRaw(sim);
    expect((await raw(sim, 'POST', '/__sim/expire-sessions')).body).toEqual({ expired: 1 });
    expect((await raw(sim, 'POST', `${A}/status`, { session: s })).message).toBe('session expired');
  });

  it('places and ends calls and shows the whole state', async () => {
    sim = await startSim();
    await readyAgent(sim);
    const started = await raw(sim, 'POST', '/__sim/calls', { body: { agent: '8990000001', call: { transactionId: 't1', sessionId: 's1', account: 'A1', extra: { dnis: '8005550100' } } } });
    expect(started).toMatchObject({ status: 201, body: { transactionId: 't1', agentUser: 'va1', extra: { dnis: '8005550100' } } });
    expect(await raw(sim, 'POST', '/__sim/calls', { body: { agent: 'va1' } })).toMatchObject({ status: 409, code: LvCode.wrongState });
    expect((await raw(sim, 'POST', '/__sim/calls/end', { body: { transactionId: 't1', by: 'nobody' } })).status).toBe(400);
    expect(await raw(sim, 'POST', '/__sim/calls/end', { body: { transactionId: 't1', by: 'customer' } })).toMatchObject({ status: 200, body: { status: 'ended', endedBy: 'customer' } });
    const state = await raw(sim, 'GET', '/__sim/state');
    expect(state.body).toMatchObject({
      agents: expect.arrayContaining([expect.objectContaining({ user: 'va1', state: 'WRAPUP', lastCall: 't1' })]),
      sessions: [expect.objectContaining({ user: 'va1' })],
      calls: [expect.objectContaining({ transactionId: 't1', termCodes: [] })],
      contacts: [expect.objectContaining({ account: 'A1' })],
    });
    expect(JSON.stringify(state.body)).not.toMatch(/pw1/);
    expect((await raw(sim, 'GET', '/__sim/nothing')).status).toBe(404);
  });
});
