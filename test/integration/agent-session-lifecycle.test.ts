/**
 * The agent lifecycle on the agent session protocol, with the strict simulator over real
 * WebSockets and an injected wall clock: open hours bind, activate and ready the agents; closing
 * sets them not ready with the platform's reason code and logs them out (a call in progress
 * first); the next morning they come back; the platform's own state changes reach /agents.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipProfile } from '../../src/config/types.js';
import { AgentLifecycle } from '../../src/agents/lifecycle.js';
import { AgentPool } from '../../src/agents/pool.js';
import type { Clock } from '../../src/util/clock.js';
import { AgentSessionAdapter } from '../../src/vendors/agent-session/adapter.js';
import { agentSessionPolicy } from '../../src/vendors/agent-session/policy.js';
import { startAgentSessionSimulator, type AgentSessionSimulator } from '../../src/vendors/agent-session/simulator/index.js';
import { waitFor } from '../helpers/test-engine.js';

const log = pino({ level: 'silent' });
let sim: AgentSessionSimulator | undefined;
let adapter: AgentSessionAdapter | undefined;
afterEach(async () => {
  adapter?.close();
  await sim?.close();
  sim = adapter = undefined;
});

const MIN = 60_000;
const HOURS = { timeZone: 'UTC', weekly: { mon: '08:00-20:00', tue: '08:00-20:00', wed: 'closed', thu: 'closed', fri: 'closed', sat: 'closed', sun: 'closed' } } as const;

function profile(): SipProfile {
  const agents = [1, 2].map((i) => ({ id: `as-0${i}`, number: `+1899000000${i}`, key: `1899000000${i}`, initialState: 'ready' as const, engine: 'builtin:echo', vendorUser: `as-0${i}` }));
  return {
    name: 'as',
    agents,
    contactCenter: {
      vendor: 'agent-session', serviceId: 'voice-ai', password: 'pw', keepAliveMinutes: 60, screenPopWaitMs: 100, openHours: HOURS,
      termCodes: { completed: 'A', callerHungUp: 'B', transferred: 'C', failed: 'D' }, wrapUp: { maxAttempts: 2, retryMs: 10 },
    },
  } as unknown as SipProfile;
}

async function setup(start: number) {
  let now = start;
  const p = profile();
  sim = await startAgentSessionSimulator({ agents: p.agents.map((a) => ({ user: a.vendorUser, password: 'pw', number: a.number })), now: () => now });
  adapter = new AgentSessionAdapter({ url: sim.url, timeoutMs: 2000, tlsRejectUnauthorized: true, queue: '', notReadyReasons: { closed: 'closed', operator: 'break' }, logoutReason: '1', sandboxPort: 0 }, log);
  const pool = new AgentPool([p]);
  // The test moves wall time itself; the lifecycle's own timer is not started here.
  const clock: Clock = { now: () => now, wall: () => now, set: () => ({ cancel: () => undefined }) };
  const lc = new AgentLifecycle(p, adapter, agentSessionPolicy(), pool, log, { clock });
  adapter.subscribe((ev) => ev.type === 'agent-state' && lc.platformState(ev.agentId, ev.state, ev.reason, ev.ours === true));
  return { lc, pool, s: sim, advance: (ms: number) => (now += ms) };
}

describe('AgentLifecycle (agent session protocol simulator)', () => {
  it('closes at the end of open hours (a call in progress first) and opens again next morning', async () => {
    // Monday 2026-11-23 19:59 UTC
    const { lc, pool, s, advance } = await setup(Date.UTC(2026, 10, 23, 19, 59));
    await lc.check();
    expect(s.state.sessionOf('as-01')?.channel).toMatchObject({ state: 'ACTIVE', status: 'ready', queue: 'voice-ai' });
    expect(pool.counts().ready).toBe(2);
    const lease = pool.lease('as', '18990000001', 'call-1');
    advance(2 * MIN);
    await lc.check();
    // as-02: not ready with the platform's code for 'closed', then logged out (channel disposed).
    expect(s.state.sessionOf('as-02')).toBeUndefined();
    expect(s.state.events.filter((e) => e.name === 'channel.disposed')).toHaveLength(1);
    expect(lc.states.get('as-01')!.phase).toBe('closing');
    if (lease.ok) lease.release();
    await lc.check();
    expect(lc.states.get('as-01')!.phase).toBe('logged-out');
    expect(s.state.sessions.size).toBe(0);
    advance(12 * 60 * MIN);
    await lc.check();
    expect(s.state.sessionOf('as-01')?.channel?.status).toBe('ready');
    expect(pool.counts().ready).toBe(2);
  });

  it("the platform's own state reaches the lifecycle; an idle agent it set not ready is taken out of service and made ready at the next check", async () => {
    const { lc, pool, s } = await setup(Date.UTC(2026, 10, 23, 12, 0));
    await lc.check();
    const session = s.state.sessionOf('as-02')!;
    // A supervisor sets the agent not ready on the platform.
    s.state.notReady(session, session.channel!, { reasoncode: 'break' });
    await waitFor(() => lc.states.get('as-02')!.platform?.state === 'not-ready', 2000, 'the platform state event');
    expect(pool.find('as', '18990000002')!.state).toBe('not-ready');
    expect(lc.states.get('as-02')!.lastError).toMatch(/set the agent not-ready \(Break\)/);
    await lc.check();
    expect(s.state.sessionOf('as-02')!.channel!.status).toBe('ready');
    expect(pool.find('as', '18990000002')!.state).toBe('ready');
  });

  it('an agent-leg failure takes the agent out of service until the next check; unknown events are counted and ignored', async () => {
    const { lc, pool, s } = await setup(Date.UTC(2026, 10, 23, 12, 0));
    await lc.check();
    const id = s.state.sessionOf('as-01')!.id;
    s.server.send(id, { messageType: 'objectEvent', target: id, name: 'session.incontact.agentleg.failed', data: { error: 'phone unreachable' } });
    s.server.send(id, { messageType: 'objectEvent', target: id, name: 'session.something.new', data: {} });
    s.server.send(id, { messageType: 'objectEvent', target: 'OTHER-SESSION', name: 'channel.infochanged', data: {} });
    await waitFor(() => lc.states.get('as-01')!.platform?.state === 'unknown', 2000, 'the agent-leg failure');
    expect(pool.find('as', '18990000001')!.state).toBe('not-ready');
    expect(lc.states.get('as-01')!.lastError).toMatch(/agent leg failed: phone unreachable/);
    await waitFor(() => (adapter!.counters()['ignored'] ?? 0) >= 2, 2000, 'the unknown event and the foreign session counted');
    await lc.check();
    expect(pool.find('as', '18990000001')!.state).toBe('ready');
  });

  it("our own not ready (an operator's) is recorded as the platform's view, not undone by the next check", async () => {
    const { lc, pool, s } = await setup(Date.UTC(2026, 10, 23, 12, 0));
    await lc.check();
    await adapter!.notReady('as-02', 'operator');
    pool.setIdleState('as-02', 'not-ready');
    await waitFor(() => lc.states.get('as-02')!.platform?.state === 'not-ready', 2000, 'the platform state');
    expect(lc.states.get('as-02')!.phase).toBe('ready');
    await lc.check();
    expect(s.state.sessionOf('as-02')!.channel).toMatchObject({ status: 'not_ready', lastReasonCode: 'break' });
  });
});
