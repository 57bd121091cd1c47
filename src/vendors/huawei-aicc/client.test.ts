/**
 * The CC-Gateway client against the strict simulator over real HTTP on loopback: the Guid rule,
 * forcelogin on 100-002, state operations and their events on the poll, the held poll, the
 * heartbeat rule (no poll for 2 minutes: signed out, then repaired by the client), a Guid the
 * platform no longer takes, and 5xx bursts retried. The simulator's clock is a variable.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CcGatewayClient } from './client.js';
import { startCcSimServer, type CcSimServer } from './simulator/server.js';
import { CcGatewayState, HEARTBEAT_MS } from './simulator/state.js';
import { CcGatewayError } from './wire.js';

const log = pino({ level: 'silent' });
let servers: CcSimServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function setup() {
  let t = 1_000_000;
  const state = new CcGatewayState([{ agentId: '1001', password: 'pw-1001' }, { agentId: '1002', password: 'pw-1002' }], () => t);
  const sim = await startCcSimServer(state, { pollHoldMs: 150, log });
  servers.push(sim);
  const client = new CcGatewayClient({ baseUrl: sim.url, pollHoldMs: 150, timeoutMs: 2000, retries: 4, log });
  return { state, sim, client, advance: (ms: number) => void (t += ms) };
}

const SIGN = { password: 'pw-1001', phonenum: '70001' };

describe('CcGatewayClient against the strict simulator', () => {
  it('signs in, keeps the Guid, and the state operations come back as events on the poll', async () => {
    const { client, state } = await setup();
    await client.signIn('1001', { ...SIGN, status: 3 });
    expect(await client.poll('1001')).toMatchObject({ kind: 'event', event: { eventType: 'AgentState_Busy', workNo: '1001' } });
    await client.sayFree('1001');
    expect(await client.poll('1001')).toMatchObject({ kind: 'event', event: { eventType: 'AgentState_Ready' } });
    await client.work('1001');
    expect(await client.agentStatus('1001')).toBe(5);
    await client.cancelWork('1001');
    expect(state.snapshot().find((a) => a.agentId === '1001')).toMatchObject({ signedIn: true, status: 'idle', phonenum: '70001' });
    // A poll with nothing to say is held, then answers "no event".
    const t0 = Date.now();
    await client.poll('1001');
    await client.poll('1001');
    expect(await client.poll('1001')).toEqual({ kind: 'none' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    await client.logout('1001');
    expect(state.snapshot().find((a) => a.agentId === '1001')!.signedIn).toBe(false);
  });

  it('signed in elsewhere (100-002): forcelogin takes the session over; the old Guid is refused', async () => {
    const { client, sim } = await setup();
    const other = new CcGatewayClient({ baseUrl: sim.url, log });
    await other.signIn('1001', SIGN);
    await client.signIn('1001', SIGN);
    expect(client.stats.forceLogins).toBe(1);
    await client.sayFree('1001');
    // The first session's Guid is no longer the agent's: refused, and it signs in again itself.
    await other.sayBusy('1001');
    expect(other.stats.reSignIns).toBe(1);
  });

  it('no poll for 2 minutes signs the agent out; the next request finds it out and signs in again', async () => {
    const { client, state, advance } = await setup();
    await client.signIn('1001', SIGN);
    advance(HEARTBEAT_MS + 1000);
    expect(state.snapshot().find((a) => a.agentId === '1001')).toMatchObject({ signedIn: false, heartbeatSignOuts: 1 });
    await client.sayFree('1001');
    expect(client.stats.reSignIns).toBe(1);
    expect(state.snapshot().find((a) => a.agentId === '1001')).toMatchObject({ signedIn: true, status: 'idle' });
    // The poll repairs too: signed out again, the poll reports it and signs in.
    advance(HEARTBEAT_MS + 1000);
    expect(await client.poll('1001')).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/retcode 100-006/) });
    expect(client.stats.reSignIns).toBe(2);
    expect(state.snapshot().find((a) => a.agentId === '1001')!.signedIn).toBe(true);
  });

  it('refusals name the operation and the retcode; a wrong password is not retried into a loop', async () => {
    const { client } = await setup();
    await expect(client.signIn('1001', { password: 'nope', phonenum: '70001' })).rejects.toThrow('huawei-aicc signIn failed: retcode 000-002 (wrong password)');
    await client.signIn('1001', SIGN);
    const e = await client.call('1001', 'cancelWork', 'POST', 'onlineagent/1001/cancelwork').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CcGatewayError);
    expect((e as CcGatewayError).message).toBe('huawei-aicc cancelWork failed: retcode 100-007 (cancelwork: the agent is not in the work state)');
  });

  it('5xx bursts are retried with backoff until the platform answers', async () => {
    const { client, sim } = await setup();
    await client.signIn('1001', SIGN);
    sim.setFaults({ errorRate: 0.5, seed: 7 });
    for (let i = 0; i < 6; i++) await client.sayBusy('1001').then(() => client.sayFree('1001'));
    sim.setFaults({});
    expect(client.stats.retries).toBeGreaterThan(0);
  });

  it('the simulator itself refuses what the interfaces refuse, and keeps serving', async () => {
    const { sim } = await setup();
    const put = async (body: string) => {
      const r = await fetch(`${sim.url}/agentgateway/resource/onlineagent/1001`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
      return { status: r.status, body: (await r.json()) as { retcode: string; message: string } };
    };
    expect(await put(JSON.stringify({ password: 'x'.repeat(33), phonenum: '70001' }))).toMatchObject({ status: 200, body: { retcode: '000-002' } });
    expect(await put(JSON.stringify({ password: 'pw-1001', phonenum: '7'.repeat(25) }))).toMatchObject({ status: 200, body: { retcode: '000-002' } });
    expect(await put('{not json')).toMatchObject({ status: 200, body: { retcode: '000-002', message: 'the body is not JSON' } });
    expect(await put('x'.repeat(70_000))).toMatchObject({ status: 413 });
    expect(await put(JSON.stringify({ password: 'pw-1001', phonenum: '70001' }))).toMatchObject({ status: 200, body: { retcode: '0' } });
  });
});
