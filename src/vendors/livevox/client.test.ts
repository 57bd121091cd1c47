import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { VendorError } from '../types.js';
import { LiveVoxApiError, LiveVoxClient, type LiveVoxClientOptions } from './client.js';
import { seededRandom } from './simulator/faults.js';
import type { LiveVoxSimulator } from './simulator/index.js';
import { CLIENT, SERVICE, startSim, TOKEN } from './test-fixtures.js';
import { LvCode } from './wire.js';

let sim: LiveVoxSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const READY = 'POST /callControl/agent/status/ready';
const client = (s: LiveVoxSimulator, o: Partial<LiveVoxClientOptions> = {}) =>
  new LiveVoxClient({ baseUrl: s.url, accessToken: TOKEN, clientName: CLIENT, backoffMs: 5, ...o });

async function joined(s: LiveVoxSimulator, o: Partial<LiveVoxClientOptions> = {}): Promise<LiveVoxClient> {
  const c = client(s, o);
  await c.login('va1', 'pw1');
  await c.joinService('va1', SERVICE, '8990000001');
  return c;
}

function failure(p: Promise<unknown>): Promise<LiveVoxApiError> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(LiveVoxApiError);
      expect(e).toBeInstanceOf(VendorError);
      return e as LiveVoxApiError;
    },
  );
}

describe('LiveVoxClient', () => {
  it('retries 5xx with backoff and gives up after the configured retries', async () => {
    sim = await startSim();
    const c = await joined(sim, { retries: 2 });
    sim.setFaults({ errorRate: 1, only: ['/callControl/agent/status/ready'] });
    const e = await failure(c.ready('va1'));
    expect(e).toMatchObject({ retryable: true, status: 503, vendorCode: LvCode.injectedFault, code: LvCode.injectedFault, operation: 'livevox ready' });
    expect(e.message).toBe(`livevox ready failed: ${READY} -> 503 injected fault (code ${LvCode.injectedFault}) (after 3 attempts)`);
    expect(sim.state.requestCounts()[`FAULT error ${READY}`]).toBe(3);
  });

  it('succeeds when a retry gets through', async () => {
    // A seed whose first decision fails (< 0.5) and whose second passes.
    let seed = 1;
    for (; ; seed++) {
      const r = seededRandom(seed);
      if (r() < 0.5 && r() >= 0.5) break;
    }
    sim = await startSim();
    const c = await joined(sim);
    sim.setFaults({ errorRate: 0.5, seed, only: ['/callControl/agent/status/ready'] });
    await c.ready('va1');
    expect(sim.state.agent('va1')?.state).toBe('READY');
    expect(sim.state.requestCounts()).toMatchObject({ [`FAULT error ${READY}`]: 1, [READY]: 1 });
  });

  it('does not retry a 4xx', async () => {
    sim = await startSim();
    const c = client(sim);
    await c.login('va1', 'pw1');
    const e = await failure(c.ready('va1'));
    expect(e).toMatchObject({ retryable: false, status: 409, vendorCode: LvCode.notJoined });
    expect(e.message).toBe(`livevox ready failed: ${READY} -> 409 join a service before Ready (agent is LOGOFF) (code ${LvCode.notJoined})`);
    expect(sim.state.requestCounts()[READY]).toBe(1);
    const bad = await failure(client(sim).login('va2', 'nope'));
    expect(bad.message).toMatch(/^livevox login failed: POST \/session\/login -> 401 invalid userName or password/);
    expect(sim.state.requestCounts()['POST /session/login']).toBe(2);
  });

  it('logs in again once on an expired session and repeats the call', async () => {
    sim = await startSim();
    const c = await joined(sim);
    sim.expireSessions();
    const lines = await c.status('va1');
    expect(lines[0]).toMatchObject({ lineNumber: 'ACD', state: 'LOGOFF' });
    expect(sim.state.requestCounts()).toMatchObject({ 'POST /session/login': 2, 'POST /callControl/agent/status': 2 });
    // Concurrent calls that all meet the expiry share one re-login.
    sim.expireSessions();
    await Promise.all([c.status('va1'), c.status('va1'), c.status('va1')]);
    expect(sim.state.requestCounts()['POST /session/login']).toBe(3);
  });

  it('times out a slow answer and retries it', async () => {
    sim = await startSim();
    const c = await joined(sim, { timeoutMs: 100, retries: 1 });
    sim.setFaults({ latencyMs: 400, only: ['/callControl/agent/status'] });
    const t = Date.now();
    const e = await failure(c.status('va1'));
    expect(Date.now() - t).toBeGreaterThanOrEqual(190);
    expect(e).toMatchObject({ retryable: true, status: undefined });
    expect(e.message).toBe('livevox status failed: POST /callControl/agent/status -> timeout after 100 ms (after 2 attempts)');
  });

  it('retries a dropped connection as a network error', async () => {
    sim = await startSim();
    const c = await joined(sim, { retries: 1 });
    sim.setFaults({ dropRate: 1, only: ['/callControl/agent/status'] });
    const e = await failure(c.status('va1'));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/^livevox status failed: POST \/callControl\/agent\/status -> network error: /);
    expect(sim.state.requestCounts()['FAULT drop POST /callControl/agent/status']).toBe(2);
  });

  it('speaks the older forms: versioned paths and string booleans', async () => {
    sim = await startSim();
    const c = await joined(sim, { apiVersion: 'v6.0', stringBooleans: true });
    await c.ready('va1');
    const call = sim.startCall('va1', { transactionId: 't1', sessionId: 's1', phoneNumber: '2134634007' });
    await c.setTermCode('va1', { callTransactionId: call.transactionId, callSessionId: call.sessionId, termCodeId: '101', moveAgentToNotReady: true, phoneDialed: '2134634007' });
    sim.endCall('t1', 'customer');
    expect(sim.state.agent('va1')?.state).toBe('NOTREADY');
    expect(sim.state.call('t1')?.termCodes).toHaveLength(1);
    expect((await c.termCodes('va1', SERVICE)).flatMap((x) => x.termCodes.map((t) => t.id))).toEqual(['101', '103', '102']);
    expect((await c.phoneBooks('va1', SERVICE)).map((b) => b.name)).toEqual(['Humans', 'Supervisors']);
  });

  it('refuses a call for a user that never logged in', async () => {
    sim = await startSim();
    const e = await failure(client(sim).ready('nobody'));
    expect(e.message).toBe(`livevox ready failed: ${READY} -> user nobody has not logged in`);
  });

  it('never logs the token, passwords or session ids', async () => {
    sim = await startSim();
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => ((out += chunk.toString()), cb()) });
    const c = await joined(sim, { logger: pino({ level: 'trace' }, sink), retries: 1 });
    const session = (await c.login('va1', 'pw1')).sessionId;
    sim.setFaults({ errorRate: 1, only: ['/callControl/agent/status/ready'] });
    await c.ready('va1').catch(() => undefined);
    sim.setFaults({});
    sim.expireSessions();
    await c.status('va1');
    expect(out).toMatch(/livevox: retrying/);
    for (const secret of [TOKEN, 'pw1', session]) expect(out).not.toContain(secret);
  });
});
