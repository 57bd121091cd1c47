/**
 * Huawei AICC / CEC end to end: the strict CC-Gateway simulator (in-process sandbox) with its SIP
 * registrar; the gateway signs each agent in busy, registers the agent's softphone number over
 * real SIP with digest, makes it idle, and keeps its event poll going. The simulator routes
 * customers from a skill queue to the longest-idle agent and rings the registered Contact through
 * real SIP and RTP; the engine is a real Twilio-protocol test engine.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server.js';
import { huaweiSandbox, startFixture } from '../helpers/gateway.js';
import { startTestEngine, waitFor, type TestEngine, type TestEngineCall } from '../helpers/test-engine.js';

let gw: RunningGateway;
let engine: TestEngine;
const sim = () => huaweiSandbox(gw).simulator;
const status = (workNo: string) => sim().state.statusOf(workNo);
const poolState = (id: string) => gw.agents.list().find((a) => a.id === id)?.state;
const admin = async (p: string, body: unknown = {}): Promise<Record<string, unknown>> => {
  const r = await fetch(`${sim().url}/__sim/${p}`, { method: 'POST', body: JSON.stringify(body) });
  return (await r.json()) as Record<string, unknown>;
};
/** The engine's connection for a platform call (by the call id the gateway hands the engine). */
async function engineCallFor(callid: string): Promise<TestEngineCall> {
  const find = () => engine.calls.find((c) => ((c.start?.['start'] as { customParameters?: Record<string, string> } | undefined)?.customParameters ?? {})['callid'] === callid);
  await waitFor(() => !!find(), 5000, `the engine's call for ${callid}`);
  return find()!;
}
const allIdle = () => ['1001', '1002', '1003', '1004'].every((w) => status(w) === 'idle') && gw.agents.list().every((a) => a.state === 'ready');

beforeAll(async () => {
  process.env['VAGW_TEST_DATA'] = mkdtempSync(path.join(tmpdir(), 'vagw-hw-'));
  engine = await startTestEngine({ protocol: 'twilio' });
  gw = await startFixture('huawei-gateway.yaml', (c) => {
    c.engines['bot']!.url = engine.url;
  });
  await waitFor(allIdle, 8000, 'every agent signed in, phone registered and idle');
});
afterAll(async () => {
  await gw?.shutdown(0);
  await engine?.close();
});

describe('huawei-aicc: lockstep through the sandbox', () => {
  it('signs each agent in, registers its phone with digest, then says free; the poll keeps it signed in', async () => {
    const snap = sim().state.snapshot();
    expect(snap.map((a) => [a.agentId, a.status, a.phonenum])).toEqual([['1001', 'idle', '70001'], ['1002', 'idle', '70002'], ['1003', 'idle', '70003'], ['1004', 'idle', '70004']]);
    const phones = sim().phones.snapshot();
    expect(phones.map((p) => p.number).sort()).toEqual(['70001', '70002', '70003', '70004']);
    expect(phones[0]!.contact).toMatch(/^sip:7000\d@127\.0\.0\.1:25998$/);
    // Each phone was challenged once and answered it (digest), no refusal.
    expect(sim().phones.stats).toMatchObject({ refused: 0 });
    expect(sim().phones.stats.challenged).toBeGreaterThanOrEqual(4);
  });

  it('a skill-queue call rings the longest-idle agent; the engine gets the call id; work, then idle, exactly once', async () => {
    const call = sim().calls.route({ skill: '1', caller: '+13125550111' });
    const e = await engineCallFor(call.callid);
    const custom = (e.start!['start'] as Record<string, Record<string, string>>)['customParameters']!;
    expect(custom['callid']).toBe(call.callid);
    await waitFor(() => call.state === 'talking', 3000, 'AgentEvent_Talking');
    expect(status(call.agentId)).toBe('talking');
    e.sendControl({ type: 'hangup', termCode: 'Resolved' });
    await waitFor(() => call.idleAt !== undefined && status(call.agentId) === 'idle', 5000, 'idle again');
    expect(call).toMatchObject({ releasedBy: 'agent', workRequests: 1 });
    await waitFor(allIdle, 3000, 'the pool Ready again');
  });

  it('the customer hangs up: Customer_Release, the wrap-up once, idle again before the wrap-up time', async () => {
    const call = sim().calls.route({ skill: '1' });
    await engineCallFor(call.callid);
    await waitFor(() => call.state === 'talking', 3000, 'talking');
    await admin(`calls/${call.callid}/hangup`);
    await waitFor(() => call.idleAt !== undefined, 5000, 'idle again');
    expect(call).toMatchObject({ releasedBy: 'customer', workRequests: 1 });
    // autoEnterIdle false: the gateway, not the 5 s wrap-up time, made the agent idle.
    expect(call.idleAt! - call.releasedAt!).toBeLessThan(5000);
  });

  it('mute and hold at the platform reach the call: the engine is told, the call goes on', async () => {
    const call = sim().calls.route({ agent: '1003' });
    const e = await engineCallFor(call.callid);
    await waitFor(() => call.state === 'talking', 3000, 'talking');
    const gwCall = () => [...gw.calls.calls.values()].find((c) => c.info.agentId === 'hw-03');
    await admin(`calls/${call.callid}/mute`);
    await waitFor(() => gwCall()?.muted === true && e.messages.some((m) => m.event === 'mute'), 3000, 'muted');
    await admin(`calls/${call.callid}/unmute`);
    await admin(`calls/${call.callid}/hold`);
    await waitFor(() => e.messages.some((m) => m.event === 'hold'), 3000, 'held');
    await admin(`calls/${call.callid}/unhold`);
    await waitFor(() => e.messages.some((m) => m.event === 'unhold') && gwCall()?.muted === false, 3000, 'back');
    // A platform action with no call behind it is refused by the platform itself.
    const r = await fetch(`${sim().url}/__sim/calls/nope/mute`, { method: 'POST' });
    expect(r.status).toBe(409);
    e.sendControl({ type: 'hangup' });
    await waitFor(() => call.idleAt !== undefined, 5000, 'idle again');
  });

  it('transfer to a human skill queue through voicecall/transfer: the platform takes the customer, our leg ends, one wrap-up', async () => {
    const call = sim().calls.route({ agent: '1004' });
    const e = await engineCallFor(call.callid);
    await waitFor(() => call.state === 'talking', 3000, 'talking');
    e.sendControl({ type: 'transfer', contact: 'Nobody' });
    await waitFor(() => e.errors.length > 0, 3000, 'refusal to the engine');
    expect(call.state).toBe('talking');
    e.sendControl({ type: 'transfer', contact: 'Humans' });
    await waitFor(() => call.idleAt !== undefined, 5000, 'idle again');
    expect(call).toMatchObject({ releasedBy: 'transfer', transferredTo: { devicetype: 1, address: '2', mode: 0 }, workRequests: 1 });
    await waitFor(() => poolState('hw-04') === 'ready', 3000, 'hw-04 Ready');
  });

  it('signed out at the platform (the heartbeat rule): signed in, registered and idle again without help; dropped polls change nothing', async () => {
    await admin('faults', { pollDropRate: 0.5, seed: 7 });
    await admin('agents/1002/signout');
    expect(status('1002')).toBe('signed-out');
    await waitFor(() => status('1002') === 'idle' && poolState('hw-02') === 'ready', 8000, '1002 idle again');
    await admin('faults', {});
    const call = sim().calls.route({ agent: '1002' });
    await engineCallFor(call.callid);
    await waitFor(() => call.state === 'talking', 3000, 'talking');
    await admin(`calls/${call.callid}/hangup`);
    await waitFor(() => call.idleAt !== undefined && call.workRequests === 1, 5000, 'wrapped up');
    expect(gw.agents.list().filter((a) => a.state === 'ready')).toHaveLength(4);
  });

  it('5xx bursts from the CC-Gateway during calls and wrap-ups: retried, every call still wrapped up exactly once', async () => {
    await admin('faults', { errorRate: 0.4, seed: 11 });
    const placed: ReturnType<ReturnType<typeof sim>["calls"]["route"]>[] = [];
    for (const agent of ['1001', '1003']) {
      const call = sim().calls.route({ agent });
      const e = await engineCallFor(call.callid);
      await waitFor(() => call.state === 'talking', 3000, 'talking');
      e.sendControl({ type: 'hangup', termCode: 'Resolved' });
      placed.push(call);
    }
    await waitFor(() => placed.every((c) => c.idleAt !== undefined), 10_000, 'both idle again');
    await admin('faults', {});
    expect(placed.map((c) => c.workRequests)).toEqual([1, 1]);
    await waitFor(allIdle, 3000, 'every agent Ready');
  });

  it('no idle agent: the platform refuses the call itself (nothing reaches the gateway)', async () => {
    const r = await fetch(`${sim().url}/__sim/calls`, { method: 'POST', body: JSON.stringify({ skill: '9' }) });
    expect(r.status).toBe(409);
    expect(await r.json()).toMatchObject({ error: 'no skill queue 9' });
    const bad = await fetch(`${sim().url}/__sim/calls`, { method: 'POST', body: JSON.stringify({ skill: 1 }) });
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'skill must be a string' }]);
  });

  it('shutdown removes the phones\' bindings at the registrar (Expires: 0) before SIP stops', async () => {
    expect(sim().phones.snapshot().length).toBe(4);
    await gw.shutdown(0);
    expect(sim().phones.snapshot()).toEqual([]);
  });
});
