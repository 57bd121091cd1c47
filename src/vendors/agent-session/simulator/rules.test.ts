/**
 * The strict agent-session simulator through the real client: the protocol's state rules, the
 * reason-code list, the event order of a new session, failures that name the state, and what it
 * answers to bad input. One simulator per test, loopback only.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AgentSessionClient } from '../client.js';
import { startAgentSessionSimulator, type AgentSessionSimulator } from './index.js';

const log = pino({ level: 'silent' });
let sim: AgentSessionSimulator | undefined;
const clients: AgentSessionClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.close();
  sim = undefined;
});

/** Resolves when the platform has reported this agent status (events, not time). */
function statusIs(c: AgentSessionClient, status: string): Promise<void> {
  if (c.channel?.info?.agentStatus.status === status) return Promise.resolve();
  return new Promise((resolve) => {
    const off = c.onEvent(() => {
      if (c.channel?.info?.agentStatus.status !== status) return;
      off();
      resolve();
    });
  });
}

async function setup() {
  sim = await startAgentSessionSimulator({ agents: [{ user: 'va1', password: 'pw', number: '+18990000001' }] });
  const c = new AgentSessionClient({ url: sim.url, user: 'va1', password: 'pw', timeoutMs: 1000, tlsRejectUnauthorized: true, logger: log });
  clients.push(c);
  await c.connect();
  return { sim, c };
}

describe('agent-session simulator: the protocol rules', () => {
  it('a new session: channel created INACTIVE, infochanged before initialized; ready fails until activated', async () => {
    const { sim, c } = await setup();
    await c.request('session.request.addchannel', 'session', { type: 'TELEPHONY' });
    expect(sim.state.events.map((e) => e.name)).toEqual(['session.initialized', 'channel.created', 'channel.infochanged', 'channel.initialized']);
    expect(c.channel?.info?.state).toBe('INACTIVE');
    await expect(c.request('channel.ready', 'channel')).rejects.toThrow(/InvalidState: channel tel1 is INACTIVE; ready needs ACTIVE/);
    await c.request('channel.activate', 'channel', { channeloptions: { queue: 'q1' } });
    await expect(c.request('channel.activate', 'channel')).rejects.toThrow(/channel tel1 is ACTIVE; activate needs INACTIVE/);
    await c.request('channel.ready', 'channel');
    expect(c.channel?.info?.agentStatus.status).toBe('ready');
  });

  it('not ready needs a listed, selectable reason code; acw needs a call, once per call, before ready', async () => {
    const { sim, c } = await setup();
    await c.request('session.request.externalnotreadyreasons', 'session');
    await c.request('session.request.addchannel', 'session', { type: 'TELEPHONY' });
    await c.request('channel.activate', 'channel');
    await expect(c.request('channel.notready', 'channel', {})).rejects.toThrow(/MissingReasonCode/);
    await expect(c.request('channel.notready', 'channel', { reasoncode: 'lunch' })).rejects.toThrow(/InvalidReasonCode: reason code 'lunch' is not in the agent's not-ready reasons \(break, keep-alive, closed\)/);
    await expect(c.request('channel.notready', 'channel', { reasoncode: 'system' })).rejects.toThrow(/not selectable/);
    await expect(c.request('channel.notready', 'channel', { reasoncode: 'acw' })).rejects.toThrow(/NoCallToWrapUp/);
    expect(c.reasonCodes.map((r) => r.reasonCodeCode)).toContain('break');
    await c.request('channel.ready', 'channel');
    const call = sim.startCall('va1');
    await statusIs(c, 'busy');
    sim.endCall(call.contactId, 'customer');
    await statusIs(c, 'after_call_work');
    await expect(c.request('channel.ready', 'channel')).rejects.toThrow(/DispositionRequired/);
    await c.request('channel.notready', 'channel', { reasoncode: 'acw', reasondesc: 'Resolved' });
    await expect(c.request('channel.notready', 'channel', { reasoncode: 'acw', reasondesc: 'Again' })).rejects.toThrow(/AcwAlreadySet/);
    await c.request('channel.ready', 'channel');
    expect(sim.state.calls.get(call.contactId)).toMatchObject({ acw: [{ reasondesc: 'Resolved' }], endedBy: 'customer' });
  });

  it('bad input gets a failure, never an exit: malformed JSON, unknown command, a foreign target; bad credentials 401', async () => {
    const { sim, c } = await setup();
    await expect(c.request('channel.bogus', 'session')).rejects.toThrow(/UnknownCommand/);
    const ws = new WebSocket(sim.url, { headers: { Authorization: `Basic ${Buffer.from('va1:pw').toString('base64')}` } });
    const got: unknown[] = [];
    ws.on('message', (m) => got.push(JSON.parse(m.toString())));
    await new Promise((r) => ws.once('open', r));
    const failures = () => got.filter((m) => (m as { result?: string }).result === 'failure').length;
    const two = new Promise<void>((r) => ws.on('message', () => failures() >= 2 && r()));
    ws.send('{not json');
    ws.send(JSON.stringify({ command: 'channel.ready', target: 'OTHER.tel1', data: {} }));
    await two;
    ws.close();
    expect(got).toContainEqual(expect.objectContaining({ result: 'failure', failure: expect.objectContaining({ code: 'MalformedRequest' }) }));
    expect(got).toContainEqual(expect.objectContaining({ result: 'failure', failure: expect.objectContaining({ code: 'InvalidTarget' }) }));
    const bad = new AgentSessionClient({ url: sim.url, user: 'va1', password: 'wrong', timeoutMs: 500, tlsRejectUnauthorized: true, logger: log });
    clients.push(bad);
    await expect(bad.connect()).rejects.toThrow(/401/);
  });

  it('seeded faults: a slow answer is a transient timeout; a failure answer carries the platform code and is not transient', async () => {
    const { sim, c } = await setup();
    await c.request('session.request.addchannel', 'session', { type: 'TELEPHONY' });
    sim.faults.delayMs = 1500;
    const slow = await c.request('channel.activate', 'channel').catch((e: unknown) => e);
    expect(slow).toMatchObject({ code: 'Timeout', transient: true });
    expect(c.stats.timeouts).toBe(1);
    delete sim.faults.delayMs;
    sim.faults.fail = { command: 'channel.ready', code: 'AcdBusy', message: 'try later', count: 1 };
    const failed = await c.request('channel.ready', 'channel').catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'AcdBusy', transient: false, message: 'channel.ready: AcdBusy: try later' });
  });
});
