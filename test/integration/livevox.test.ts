/**
 * LiveVox virtual agents end to end, through the real SIP and media path: the sandbox simulator
 * (strict LiveVox API) places calls as LiveVox would (SIP INVITE with X-transaction-id and
 * Session-ID, RTP audio) to agents the gateway logged in, joined and made Ready; a real engine
 * ends the call or transfers it; the simulator's own records prove the wrap-up.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server.js';
import { livevoxSandbox, startFixture } from '../helpers/gateway.js';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine.js';
import type { LiveVoxSimulator } from '../../src/vendors/livevox/simulator/index.js';

let gw: RunningGateway;
let engine: TestEngine;

const sim = () => livevoxSandbox(gw).simulator;
const agentState = (user: string) => sim().state.snapshot().agents.find((a) => a.user === user)?.state;

const REST_TOKEN = 'rest-token-0123456789abcdef';

beforeAll(async () => {
  process.env['VAGW_TEST_DATA'] = mkdtempSync(path.join(tmpdir(), 'vagw-lv-'));
  engine = await startTestEngine({ protocol: 'twilio' });
  gw = await startFixture('livevox-gateway.yaml', (c) => {
    c.engines['bot']!.url = engine.url;
    c.engines['bot']!.restAuthToken = REST_TOKEN;
  });
  // Ready at LiveVox first, then (once the API answered) offered by the pool.
  await waitFor(() => ['va-01', 'va-02', 'va-03', 'va-04'].every((u) => agentState(u) === 'READY'), 10_000, 'agents Ready at LiveVox');
  await waitFor(() => gw.agents.list().every((a) => a.state === 'ready'), 5000, 'agents Ready in the pool');
});
afterAll(async () => {
  await gw?.shutdown(0);
  await engine?.close();
});

describe('LiveVox virtual agents', () => {
  it('logs agents in, joins the service and makes them Ready; the pool offers them', () => {
    expect(gw.agents.list().map((a) => a.state)).toEqual(['ready', 'ready', 'ready', 'ready']);
  });

  it('a call: engine gets the LiveVox ids and screen pop, hangs up with a term code, agent back to Ready', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('va-01', { transactionId: '108821676850', sessionId: 'U5EF8FT5DFC07F9@10.101.21.216', account: 'ACC-1', phoneNumber: '2134634007', firstName: 'Ada' });
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    const custom = (e.start!['start'] as Record<string, Record<string, string>>)['customParameters']!;
    expect(custom).toMatchObject({ transactionId: '108821676850', sessionId: 'U5EF8FT5DFC07F9@10.101.21.216' });
    expect(Object.keys(custom).some((k) => k.startsWith('pop_'))).toBe(true);
    await waitFor(() => e.receivedMs > 200, 3000, 'caller audio at the engine');
    e.sendControl({ type: 'updateContact', fields: { callOutcome: 'resolved', nextAction: 'none' } });
    await waitFor(() => sim().state.contact('ACC-1')?.fields['callOutcome'] === 'resolved', 3000, 'contact updated at LiveVox');
    e.sendControl({ type: 'hangup', termCode: 'AI Completed' });
    await waitFor(() => agentState('va-01') === 'READY' && gw.agents.find('livevox', '18990000001')!.state === 'ready', 5000, 'agent Ready again');
    const rec = sim().state.snapshot().calls.find((c) => c.transactionId === call.transactionId)!;
    expect(rec.termCodes.map((t) => t.termCodeName)).toEqual(['AI Completed']);
    // The guide's body, complete: phoneDialed from the INVITE (the placer's From is the customer).
    expect(rec.termCodes[0]!.phoneDialed).toBe('2134634007');
    // The platform has the agent Ready before the Ready step's confirmation is on disk and counted.
    const wrapUp = gw.contactCenters.wrapUp!;
    await waitFor(() => wrapUp.stats.confirmed >= 3 && wrapUp.pendingTotal === 0, 3000, 'the three wrap-up steps confirmed');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^vagw_wrapup_steps_confirmed_total [3-9]$/m);
    expect(metrics).toMatch(/^vagw_wrapup_steps_pending 0$/m);
  });

  it('caller hangs up: stop to the engine, "Caller Hung Up" term code, agent Ready', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('va-02', { transactionId: '200000000001', sessionId: 'S2@10.0.0.1' });
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    const placed = livevoxSandbox(gw).placer!;
    await waitFor(() => placed.active > 0, 2000, 'placed');
    // /agents shows LiveVox's view as LiveVox last reported it: it routed a call to the agent.
    const agentView = async () => ((await (await fetch(`http://127.0.0.1:${gw.httpPort}/agents`)).json()) as { agents: Record<string, unknown>[] }).agents.find((a) => a['id'] === 'va-02')!;
    expect(await agentView()).toMatchObject({ state: 'busy', vendor: 'livevox', platformState: 'in-call' });
    sim().endCall(call.transactionId, 'customer');
    // The placer's leg ends when the customer leaves: it sends BYE.
    await waitFor(() => e.events.includes('stop'), 5000, 'stop at the engine');
    await waitFor(() => agentState('va-02') === 'READY', 5000, 'Ready');
    const rec = sim().state.snapshot().calls.find((c) => c.transactionId === call.transactionId)!;
    expect(rec.termCodes.map((t) => t.termCodeName)).toEqual(['Caller Hung Up']);
    await expect.poll(async () => (await agentView())['platformState']).toBe('ready');
  });

  it('transfer to a human through the phonebook: conference, human joins, we leave, transfer term code, Ready', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('va-03', { transactionId: '300000000001', sessionId: 'S3@10.0.0.1' });
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    e.sendControl({ type: 'transfer', phonebook: 'Human Agents', contact: 'Tier 1' });
    await waitFor(() => agentState('va-03') === 'READY', 8000, 'Ready after transfer');
    const rec = sim().state.snapshot().calls.find((c) => c.transactionId === call.transactionId)!;
    expect(rec.conference).toBeDefined();
    expect(rec.termCodes.map((t) => t.termCodeName)).toEqual(['Transferred to Agent']);
  });
});

describe('engines that end calls their own way (Pipecat, Twilio)', () => {
  const termCodesOf = (tid: string) => sim().state.snapshot().calls.find((c) => c.transactionId === tid)!.termCodes.map((t) => t.termCodeName);

  it('a normal close (1000) ends the call as the engine hanging up: completed term code, Ready, never dialled again', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('va-03', { transactionId: '700000000001', sessionId: 'S71@10.0.0.1' });
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    const custom = (e.start!['start'] as Record<string, Record<string, string>>)['customParameters']!;
    expect(custom).toMatchObject({ from_number: custom['caller'], to_number: expect.any(String) });
    e.close(1000, 'bot finished');
    await waitFor(() => agentState('va-03') === 'READY', 5000, 'Ready');
    expect(termCodesOf(call.transactionId)).toEqual(['AI Completed']);
    expect(engine.calls.length).toBe(before + 1);
  });

  it("Twilio's REST hang-up (POST .../Calls/{CallSid}.json Status=completed) with the engine's token; refusals in Twilio's error shape", async () => {
    const before = engine.calls.length;
    const call = sim().startCall('va-04', { transactionId: '700000000002', sessionId: 'S72@10.0.0.1' });
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    const start = e.start!['start'] as Record<string, string>;
    const url = (account: string, sid: string) => `http://127.0.0.1:${gw.httpPort}/2010-04-01/Accounts/${account}/Calls/${sid}.json`;
    const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    const post = (u: string, auth: string | undefined, body: string) =>
      fetch(u, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) } });
    const noAuth = await post(url(start['accountSid']!, start['callSid']!), undefined, 'Status=completed');
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({ code: 20003, status: 401 });
    expect((await post(url(start['accountSid']!, start['callSid']!), basic(start['accountSid']!, 'wrong-token-0123456789'), 'Status=completed')).status).toBe(401);
    expect((await post(url(start['accountSid']!, 'CAnope'), basic(start['accountSid']!, REST_TOKEN), 'Status=completed')).status).toBe(404);
    const twiml = await post(url(start['accountSid']!, start['callSid']!), basic(start['accountSid']!, REST_TOKEN), 'Twiml=%3CResponse%2F%3E');
    expect([twiml.status, ((await twiml.json()) as { message: string }).message]).toEqual([400, expect.stringContaining('only Status=completed')]);
    const done = await post(url(start['accountSid']!, start['callSid']!), basic(start['accountSid']!, REST_TOKEN), 'Status=completed');
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ sid: start['callSid'], account_sid: start['accountSid'], status: 'completed' });
    await waitFor(() => agentState('va-04') === 'READY', 5000, 'Ready');
    expect(termCodesOf(call.transactionId)).toEqual(['AI Completed']);
    const record = (await (await fetch(`http://127.0.0.1:${gw.httpPort}/calls/${encodeURIComponent(gw.calls.findBySid(start['callSid']!)!.info.callId)}`)).json()) as Record<string, string>;
    expect(record).toMatchObject({ endReason: 'engine-hangup', endedBy: expect.stringMatching(/^engine:twilio-rest/) });
    expect(engine.calls.length).toBe(before + 1);
  });
});

describe('calls LiveVox never routed', () => {
  it('a SIP call carrying unknown LiveVox ids: the refused term code is reported, the agent goes back to Ready', async () => {
    const { SipPeer, placeCall, hangUp, OFFER } = await import('../helpers/sip-peer.js');
    const peer = await SipPeer.open();
    const { d, ok } = await placeCall(peer, 25570, '+18990000004', OFFER(7000), 'X-transaction-id: 777000000001\nSession-ID: NOPE@10.0.0.9\n');
    expect(ok.status).toBe(200);
    await hangUp(peer, 25570, d);
    await waitFor(() => (gw.contactCenters.wrapUp?.stats.rejected ?? 0) >= 1, 5000, 'term code refused and reported');
    await waitFor(() => gw.agents.find('livevox', '18990000004')!.state === 'ready' && agentState('va-04') === 'READY', 5000, 'agent back in service');
    peer.close();
  });
});

describe('back-to-back calls', () => {
  it('takes the next call the instant LiveVox has the agent Ready again (before its answer reaches us)', async () => {
    const before = engine.calls.length;
    const first = sim().startCall('va-01', { transactionId: '600000000001', sessionId: 'S61@10.0.0.1' });
    let second: ReturnType<LiveVoxSimulator['startCall']> | undefined;
    // LiveVox routes the next customer while it is still answering our Ready request.
    const off = sim().on('agent-state', (a) => {
      if (a.user === 'va-01' && a.state === 'READY' && !second) second = sim().startCall('va-01', { transactionId: '600000000002', sessionId: 'S62@10.0.0.1' });
    });
    const e1 = await engine.waitForCall(before, 5000);
    await waitFor(() => e1.start !== undefined, 3000, 'first start');
    e1.sendControl({ type: 'hangup' });
    const e2 = await engine.waitForCall(before + 1, 5000);
    await waitFor(() => e2.start !== undefined, 3000, 'second call reached the engine');
    off();
    e2.sendControl({ type: 'hangup' });
    await waitFor(() => agentState('va-01') === 'READY' && sim().state.call(second!.transactionId)!.termCodes.length === 1, 5000, 'second wrap-up');
    expect(sim().state.call(first.transactionId)!.termCodes).toHaveLength(1);
  });
});

describe("the sandbox's ACD (POST /__sim/arrivals)", () => {
  it('customers arriving at a rate are routed to Ready agents as they free up, each talks, hangs up and is wrapped up once', async () => {
    const admin = async (method: string, body?: unknown) => {
      const r = await fetch(`${sim().url}/__sim/arrivals`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
      return { status: r.status, body: (await r.json()) as Record<string, Record<string, unknown>> };
    };
    expect(await admin('POST', { ratePerSec: 'fast' })).toMatchObject({ status: 400, body: { message: "invalid field 'ratePerSec': must be a number within 0..5000" } });
    // 12 customers in about 1.2 s for 4 agents, each talking 300 ms from the answer: most wait for an agent.
    const started = await admin('POST', { ratePerSec: 10, talkMs: 300, maxWaitMs: 20_000, prefix: 'acd-it-' });
    expect(started).toMatchObject({ status: 200, body: { config: { ratePerSec: 10, talkMs: 300, prefix: 'acd-it-' }, stats: { arrived: 0 } } });
    await expect.poll(async () => (await admin('GET')).body['stats']!['arrived'], { timeout: 5000 }).toBeGreaterThanOrEqual(12);
    await admin('POST', { ratePerSec: 0 });
    // Every routed customer's call is over (hung up by the customer or ended by the agent's side).
    await expect
      .poll(async () => {
        const s = (await admin('GET')).body['stats']!;
        return s['waiting'] === 0 && (s['hungUp'] as number) + (s['endedByAgent'] as number) === s['routed'];
      }, { timeout: 15_000 })
      .toBe(true);
    const stats = (await admin('GET')).body['stats']!;
    expect(stats).toMatchObject({ abandoned: 0, endedByAgent: 0, dropped: 0 });
    await waitFor(() => ['va-01', 'va-02', 'va-03', 'va-04'].every((u) => agentState(u) === 'READY'), 5000, 'agents Ready');
    const calls = sim().state.snapshot().calls.filter((c) => c.transactionId.startsWith('acd-it-'));
    expect(calls.length).toBeGreaterThanOrEqual(12);
    for (const c of calls) {
      expect(c).toMatchObject({ status: 'ended', endedBy: 'customer' });
      expect(c.termCodes.map((t) => t.termCodeName)).toEqual(['Caller Hung Up']);
      // The talk time runs from the answer: the call lasted at least that long.
      expect(c.endedAt! - c.startedAt).toBeGreaterThanOrEqual(300);
    }
    // The customers queued behind four agents: some waited.
    expect((stats['waitMs'] as { max: number }).max).toBeGreaterThan(0);
  });
});

describe('failures on either side', () => {
  it('engine lost mid-call (reconnect fails too): the call ends with the failure term code, agent Ready', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('va-04', { transactionId: '400000000001', sessionId: 'S4@10.0.0.1' });
    const first = await engine.waitForCall(before, 5000);
    await waitFor(() => first.start !== undefined, 3000, 'start');
    first.close(1011);
    const second = await engine.waitForCall(before + 1, 5000);
    await waitFor(() => second.start !== undefined, 3000, 'reconnect start');
    second.close(1011);
    await waitFor(() => sim().state.call(call.transactionId)!.termCodes.length === 1 && agentState('va-04') === 'READY', 8000, 'wrap-up');
    expect(sim().state.call(call.transactionId)!.termCodes.map((t) => t.termCodeName)).toEqual(['AI Failure']);
  });

  it('bursts of LiveVox 5xx and dropped connections: every call still gets exactly one term code', async () => {
    sim().setFaults({ errorRate: 0.3, dropRate: 0.1, only: ['/callControl'], seed: 4475 });
    const calls = ['va-01', 'va-02'].map((agent, i) => sim().startCall(agent, { transactionId: `50000000000${i}`, sessionId: `S5${i}@10.0.0.1` }));
    // The engine hangs up each call as soon as it starts.
    await waitFor(() => engine.calls.filter((c) => c.start !== undefined && !c.closed).length >= 2 || calls.every((c) => sim().state.call(c.transactionId)!.status !== 'active'), 8000, 'engines up');
    for (const e of engine.calls.filter((c) => !c.closed && c.start)) e.sendControl({ type: 'hangup' });
    await waitFor(() => calls.every((c) => sim().state.call(c.transactionId)!.termCodes.length >= 1), 20_000, 'term codes despite faults');
    sim().setFaults({});
    await waitFor(() => agentState('va-01') === 'READY' && agentState('va-02') === 'READY', 10_000, 'agents Ready');
    for (const c of calls) expect(sim().state.call(c.transactionId)!.termCodes).toHaveLength(1);
  });
});

describe('nothing lost across a restart', () => {
  it('a term code that failed before the gateway stopped is replayed on restart: exactly one term code, agent Ready', async () => {
    const { startLiveVoxSimulator } = await import('../../src/vendors/livevox/simulator/index.js');
    const { CallPlacer } = await import('../../src/vendors/livevox/simulator/placer.js');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vagw-replay-'));
    const external = await startLiveVoxSimulator({
      accessToken: 'it-token',
      clientName: 'it-client',
      agents: [1, 2, 3, 4].map((i) => ({ user: `va-0${i}`, password: 'it-password' })),
      services: [{ id: '2001', termCodes: ['AI Completed', 'Caller Hung Up', 'Transferred to Agent', 'AI Failure'].map((name, i) => ({ id: String(100 + i), name })), phonebooks: [] }],
    });
    const patch = (c: import('../../src/config/types.js').GatewayConfig) => {
      c.livevox.baseUrl = external.url;
      c.dataDir = dataDir;
      c.profiles[0]!.engine = 'builtin:echo';
      c.profiles[0]!.agents = c.profiles[0]!.agents.map((a) => ({ ...a, engine: 'builtin:echo' }));
      c.profiles[0]!.listen.port = 25580;
      c.media.rtpPortMin = 47000;
      c.media.rtpPortMax = 47999;
    };
    const g1 = await startFixture('livevox-gateway.yaml', patch);
    await waitFor(() => external.state.agent('va-01')?.state === 'READY', 5000, 'va-01 Ready');
    const placer = await CallPlacer.start({ gateway: { host: '127.0.0.1', port: 25580 } });
    external.on('call-started', (c) => {
      // The customer hangs up after 300 ms; LiveVox then has the agent in wrap-up.
      const pc = placer.place({ number: c.agentNumber, transactionId: c.transactionId, sessionId: c.sessionId, maxDurationMs: 300 });
      void pc.ended.then(() => external.endCall(c.transactionId, 'customer'));
    });
    // LiveVox refuses every term code for now: the wrap-up can only record and retry.
    external.setFaults({ errorRate: 1, only: ['/callControl/agent/call/termCode'] });
    const call = external.startCall('va-01', { transactionId: '900000000001', sessionId: 'R1@10.0.0.1' });
    // The first attempt (with the client's own retries) has failed: the steps are only on disk.
    await waitFor(() => (g1.contactCenters.wrapUp?.stats.retries ?? 0) > 0, 10_000, 'a failed term-code attempt');
    expect(g1.contactCenters.wrapUp!.pendingFor('va-01')).toBe(2);
    await g1.shutdown(0);
    await placer.close();

    external.setFaults({});
    const g2 = await startFixture('livevox-gateway.yaml', patch);
    await waitFor(() => external.state.agent('va-01')?.state === 'READY', 5000, 'va-01 Ready after the replay');
    await waitFor(() => g2.agents.find('livevox', '18990000001')!.state === 'ready', 2000, 'offered again');
    expect(external.state.call(call.transactionId)!.termCodes.map((t) => t.termCodeName)).toEqual(['Caller Hung Up']);
    await g2.shutdown(0);
    await external.close();
  });
});
