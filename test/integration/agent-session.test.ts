/**
 * The agent session protocol end to end: the strict simulator (in-process sandbox) routes customers
 * through real SIP and RTP to agents the gateway bound, gave a telephony channel, activated and
 * made ready over the protocol's WebSocket; the engine is a real Twilio-protocol test engine.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server.js';
import { agentSessionSandbox, startFixture } from '../helpers/gateway.js';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine.js';

let gw: RunningGateway;
let engine: TestEngine;
const sim = () => agentSessionSandbox(gw).simulator;
const channelOf = (user: string) => sim().state.sessionOf(user)?.channel;

beforeAll(async () => {
  process.env['VAGW_TEST_DATA'] = mkdtempSync(path.join(tmpdir(), 'vagw-as-'));
  engine = await startTestEngine({ protocol: 'twilio' });
  gw = await startFixture('agent-session-gateway.yaml', (c) => {
    c.engines['bot']!.url = engine.url;
  });
});
afterAll(async () => {
  await gw?.shutdown(0);
  await engine?.close();
});

describe('agent session protocol: lockstep through the sandbox', () => {
  it('binds every agent, adds its telephony channel, activates it on the queue and makes it ready', async () => {
    for (const user of ['as-01', 'as-02', 'as-03', 'as-04']) {
      expect(channelOf(user)).toMatchObject({ type: 'TELEPHONY', state: 'ACTIVE', status: 'ready', queue: 'voice-ai' });
    }
    const names = sim().state.events.filter((e) => e.session === sim().state.sessionOf('as-01')!.id).map((e) => e.name);
    // Created INACTIVE, the first infochanged before initialized (the documented order), then activate and ready.
    expect(names.slice(0, 4)).toEqual(['session.initialized', 'channel.created', 'channel.infochanged', 'channel.initialized']);
    expect(gw.agents.list().filter((a) => a.state === 'ready')).toHaveLength(4);
  });

  it('a call: busy while it lasts, then after-call work with the outcome and ready, exactly once', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('as-01', '+13125550111');
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    const custom = (e.start!['start'] as Record<string, Record<string, string>>)['customParameters']!;
    expect(custom['contactId']).toBe(call.contactId);
    expect(channelOf('as-01')?.status).toBe('busy');
    e.sendControl({ type: 'hangup', termCode: 'Resolved' });
    await waitFor(() => channelOf('as-01')?.status === 'ready' && gw.agents.find('agent-session', '18990000001')!.state === 'ready', 5000, 'ready again');
    const rec = sim().state.calls.get(call.contactId)!;
    expect(rec.acw.map((a) => a.reasondesc)).toEqual(['Resolved']);
    expect(rec.endedBy).toBe('agent');
    expect(rec.readyAt).toBeGreaterThanOrEqual(rec.acw[0]!.at);
  });

  it('the customer hangs up: "Caller Hung Up" as after-call work, then ready', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('as-02');
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    sim().endCall(call.contactId, 'customer');
    await waitFor(() => channelOf('as-02')?.status === 'ready', 5000, 'ready again');
    expect(sim().state.calls.get(call.contactId)!.acw.map((a) => a.reasondesc)).toEqual(['Caller Hung Up']);
  });

  it('the connection dropped mid-call: state re-read on reconnect, the wrap-up still exactly once', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('as-03');
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    sim().server.socketOf('as-03')!.terminate();
    e.sendControl({ type: 'hangup', termCode: 'Resolved' });
    await waitFor(() => channelOf('as-03')?.status === 'ready', 8000, 'ready again after the reconnect');
    expect(sim().state.calls.get(call.contactId)!.acw).toHaveLength(1);
  });

  it('a transfer through the address book: an unknown entry is refused to the engine; a skill entry sends the caller there with REFER', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('as-04');
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    e.sendControl({ type: 'transfer', phonebook: 'Humans', contact: 'Nobody' });
    await waitFor(() => e.errors.length > 0, 3000, 'the refusal');
    expect(e.errors[0]).toMatchObject({ code: 'transfer-failed', message: expect.stringContaining("no address-book entry 'Nobody' in 'Humans'; have: Humans/Tier 1, Humans/Supervisor") });
    expect(channelOf('as-04')?.status).toBe('busy');
    e.sendControl({ type: 'transfer', phonebook: 'Humans', contact: 'Tier 1' });
    await waitFor(() => channelOf('as-04')?.status === 'ready', 5000, 'ready after the transfer');
    const rec = sim().state.calls.get(call.contactId)!;
    expect(rec.transferredTo).toBe('tel:4001');
    expect(rec.acw.map((a) => a.reasondesc)).toEqual(['Transferred to Agent']);
  });

  it('the connection dropped mid-wrap-up (right after the after-call work): re-read on reconnect, ready once, nothing doubled', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('as-02');
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    // The platform answers the after-call work, then the connection drops before the ready.
    sim().faults.dropAfter = { agent: 'as-02', requests: 1 };
    e.sendControl({ type: 'hangup', termCode: 'Resolved' });
    await waitFor(() => channelOf('as-02')?.status === 'ready' && gw.agents.find('agent-session', '18990000002')!.state === 'ready', 8000, 'ready after the reconnect');
    const rec = sim().state.calls.get(call.contactId)!;
    expect(rec.acw.map((a) => a.reasondesc)).toEqual(['Resolved']);
    expect(sim().faults.dropAfter).toBeUndefined();
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^vagw_contact_center_events_total\{vendor="agent-session",kind="reconnects"\} [1-9]/m);
  });
});

describe('the platform logs the agent out', () => {
  it('mid-call: the call is released and ended, new calls refused; signed in again, the pending wrap-up runs and the agent is ready', async () => {
    const before = engine.calls.length;
    const call = sim().startCall('as-04');
    const e = await engine.waitForCall(before, 5000);
    await waitFor(() => e.start !== undefined, 3000, 'start');
    sim().server.forceLogout('as-04');
    await waitFor(() => gw.calls.calls.size === 0, 5000, 'the call ended');
    expect(gw.calls.callStats.ended.get('platform-ended')).toBeGreaterThanOrEqual(1);
    const lc = gw.contactCenters.lifecycles[0]!;
    await waitFor(() => gw.agents.find('agent-session', '18990000004')!.state !== 'ready', 3000, 'out of service');
    expect(sim().state.calls.get(call.contactId)!.endedBy).toBe('agent');
    // The client binds again (a new session, no channel); the next lifecycle check signs the agent
    // in (a new channel, activated) and the pending wrap-up resumes.
    await waitFor(() => sim().state.sessionOf('as-04') !== undefined, 3000, 'a new session');
    await waitFor(() => lc.states.get('as-04')!.phase !== 'ready', 3000, 'the lifecycle knows');
    await lc.check();
    await waitFor(() => channelOf('as-04')?.status === 'ready' && gw.agents.find('agent-session', '18990000004')!.state === 'ready', 5000, 'ready again');
  });
});

describe('nothing lost across a restart', () => {
  it('an after-call work the platform refused before the gateway stopped is replayed on restart: exactly once, then ready', async () => {
    const { startAgentSessionSimulator } = await import('../../src/vendors/agent-session/simulator/index.js');
    const { SandboxPlacer } = await import('../../src/vendors/sandbox/placer.js');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vagw-as-replay-'));
    const external = await startAgentSessionSimulator({ agents: [1, 2, 3, 4].map((i) => ({ user: `as-0${i}`, password: 'it-password', number: `+1899000000${i}` })) });
    const patch = (c: import('../../src/config/types.js').GatewayConfig) => {
      c.agentSession.url = external.url;
      c.dataDir = dataDir;
      c.profiles[0]!.engine = 'builtin:echo';
      c.profiles[0]!.agents = c.profiles[0]!.agents.map((a) => ({ ...a, engine: 'builtin:echo' }));
      c.profiles[0]!.listen.port = 25972;
      c.media.rtpPortMin = 50500;
      c.media.rtpPortMax = 50999;
    };
    const g1 = await startFixture('agent-session-gateway.yaml', patch);
    await waitFor(() => external.state.sessionOf('as-01')?.channel?.status === 'ready', 5000, 'as-01 ready');
    const placer = await SandboxPlacer.start({ gateway: { host: '127.0.0.1', port: 25972 }, shape: { userAgent: 'it', recordRoute: (self) => [self] } });
    external.on('call-started', (c) => {
      // The customer hangs up after 300 ms; the platform then has the agent in after-call work.
      const pc = placer.place({ number: c.number, headers: { 'X-Contact-Id': c.contactId }, maxDurationMs: 300 });
      void pc.ended.then(() => external.endCall(c.contactId, 'customer'));
    });
    // The platform refuses every not-ready for now: the wrap-up is reconciled, parked and kept on disk.
    external.faults.fail = { command: 'channel.notready', code: 'ServiceUnavailable', message: 'the ACD is restarting', count: 1000 };
    const call = external.startCall('as-01');
    await waitFor(() => (g1.contactCenters.wrapUp?.stats.failures ?? 0) > 0, 10_000, 'the wrap-up parked');
    expect(g1.contactCenters.wrapUp!.pendingFor('as-01')).toBe(2);
    expect(external.state.sessionOf('as-01')!.channel!.status).toBe('after_call_work');
    await g1.shutdown(0);
    await placer.close();

    delete external.faults.fail;
    const g2 = await startFixture('agent-session-gateway.yaml', patch);
    await waitFor(() => external.state.sessionOf('as-01')?.channel?.status === 'ready', 5000, 'as-01 ready after the replay');
    await waitFor(() => g2.agents.find('agent-session', '18990000001')!.state === 'ready', 2000, 'offered again');
    expect(external.state.calls.get(call.contactId)!.acw.map((a) => a.reasondesc)).toEqual(['Caller Hung Up']);
    await g2.shutdown(0);
    await external.close();
  });
});
