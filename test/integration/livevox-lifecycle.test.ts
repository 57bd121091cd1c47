/**
 * The agent lifecycle against the strict LiveVox simulator (real HTTP), with an injected clock:
 * login/join/Ready at opening, keep-alive cycles that skip busy agents, closing with calls in
 * progress, and a session that expired mid-day.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipProfile } from '../../src/config/types.js';
import { LiveVoxAdapter } from '../../src/vendors/livevox/adapter.js';
import { LiveVoxClient } from '../../src/vendors/livevox/client.js';
import { livevoxPolicy } from '../../src/vendors/livevox/policy.js';
import { startLiveVoxSimulator, type LiveVoxSimulator } from '../../src/vendors/livevox/simulator/index.js';
import { AgentLifecycle } from '../../src/agents/lifecycle.js';
import { AgentPool } from '../../src/agents/pool.js';
import type { Clock } from '../../src/util/clock.js';

const log = pino({ level: 'silent' });
let sim: LiveVoxSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function profile(openHours?: SipProfile['contactCenter']['openHours']): SipProfile {
  const agents = [1, 2].map((i) => ({ id: `va-0${i}`, number: `+1899000000${i}`, key: `1899000000${i}`, initialState: 'ready' as const, engine: 'builtin:echo', vendorUser: `va-0${i}` }));
  return {
    name: 'lv',
    agents,
    contactCenter: {
      vendor: 'livevox', serviceId: '7', password: 'pw', keepAliveMinutes: 60, screenPopWaitMs: 100,
      termCodes: { completed: 'A', callerHungUp: 'B', transferred: 'C', failed: 'D' }, wrapUp: { maxAttempts: 2, retryMs: 10 },
      ...(openHours ? { openHours } : {}),
    },
  } as unknown as SipProfile;
}

async function setup(p: SipProfile, start: number) {
  let now = start;
  sim = await startLiveVoxSimulator({
    accessToken: 't', clientName: 'c', clock: () => now,
    agents: p.agents.map((a) => ({ user: a.vendorUser, password: 'pw' })),
    services: [{ id: '7', termCodes: [{ id: '1', name: 'A' }], phonebooks: [] }],
  });
  const adapter = new LiveVoxAdapter({ client: new LiveVoxClient({ baseUrl: sim.url, accessToken: 't', clientName: 'c', retries: 0 }) });
  const pool = new AgentPool([p]);
  // The test moves wall time itself; the lifecycle's own timer is not started here.
  const clock: Clock = { now: () => now, wall: () => now, set: () => ({ cancel: () => undefined }) };
  const lc = new AgentLifecycle(p, adapter, livevoxPolicy(p.contactCenter), pool, log, { clock });
  return { lc, pool, s: sim, advance: (ms: number) => (now += ms) };
}

const MIN = 60_000;

describe('AgentLifecycle (LiveVox simulator)', () => {
  it('logs in, joins and sets Ready; offers agents only then', async () => {
    const { lc, pool, s } = await setup(profile(), Date.UTC(2026, 10, 23, 15));
    expect(pool.counts()).toEqual({ ready: 0, 'not-ready': 2, busy: 0 });
    await lc.check();
    expect(s.state.agent('va-01')!.state).toBe('READY');
    expect(pool.counts()).toEqual({ ready: 2, 'not-ready': 0, busy: 0 });
  });

  it('cycles idle agents NotReady -> Ready every keep-alive interval, never a busy one', async () => {
    const { lc, pool, s, advance } = await setup(profile(), Date.UTC(2026, 10, 23, 15));
    await lc.check();
    const lease = pool.lease('lv', '18990000002', 'call-1');
    advance(59 * MIN);
    await lc.check();
    expect(lc.states.get('va-01')!.keepAlives).toBe(0);
    advance(2 * MIN);
    await lc.check();
    expect(lc.states.get('va-01')!.keepAlives).toBe(1);
    expect(lc.states.get('va-02')!.keepAlives).toBe(0);
    expect(s.state.agent('va-01')!.state).toBe('READY');
    if (lease.ok) lease.release();
    await lc.check();
    expect(lc.states.get('va-02')!.keepAlives).toBe(1);
  });

  it('re-establishes an expired session without operator help', async () => {
    const { lc, s, advance } = await setup(profile(), Date.UTC(2026, 10, 23, 15));
    await lc.check();
    expect(s.expireSessions()).toBe(2);
    advance(61 * MIN);
    await lc.check();
    expect(s.state.agent('va-01')!.state).toBe('READY');
    expect(lc.states.get('va-01')!.phase).toBe('ready');
  });

  it('closes at the end of open hours (a call in progress first), opens again next morning', async () => {
    const hours = { timeZone: 'UTC', weekly: { mon: '08:00-20:00', tue: '08:00-20:00', wed: 'closed', thu: 'closed', fri: 'closed', sat: 'closed', sun: 'closed' } };
    // Monday 2026-11-23 19:59 UTC
    const { lc, pool, s, advance } = await setup(profile(hours), Date.UTC(2026, 10, 23, 19, 59));
    await lc.check();
    const lease = pool.lease('lv', '18990000001', 'call-1');
    advance(2 * MIN);
    await lc.check();
    expect(s.state.agent('va-02')!.state).toBe('LOGOFF');
    expect(lc.states.get('va-01')!.phase).toBe('closing');
    expect(pool.find('lv', '18990000002')!.state).toBe('not-ready');
    if (lease.ok) lease.release();
    expect(pool.find('lv', '18990000001')!.state).toBe('not-ready');
    await lc.check();
    expect(lc.states.get('va-01')!.phase).toBe('logged-out');
    advance(12 * 60 * MIN);
    await lc.check();
    expect(s.state.agent('va-01')!.state).toBe('READY');
    expect(pool.counts().ready).toBe(2);
  });
});
