/**
 * The lifecycle against an in-memory platform with LiveVox's rules that matter here: a call is
 * routed only to a Ready agent, Ready is refused while the agent is on a call, and an ended call
 * leaves the agent in wrap-up. Driven by a fake clock: no sleeps.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { SipProfile } from '../config/types.js';
import { FakeClock } from '../util/clock.js';
import type { ContactCenterPolicy, VendorAdapter, VendorAgentState, VendorCallIds } from '../vendors/types.js';
import { AgentLifecycle } from './lifecycle.js';
import { AgentPool } from './pool.js';

const profile = {
  name: 'p',
  contactCenter: { serviceId: 's1', password: 'pw', termCodes: { failed: 'Failed' } },
  agents: [{ id: 'a1', number: '+18990000001', key: '18990000001', vendorUser: 'va1', initialState: 'not-ready', engine: 'builtin:echo' }],
} as unknown as SipProfile;

const policy: ContactCenterPolicy = {
  idsFromInvite: () => ({}),
  isPlatformCall: (ids) => !!ids.transactionId,
  sameCall: (a, b) => !!a.transactionId && a.transactionId === b.transactionId,
  wrapUpPlan: () => [],
  answer: 'immediately',
  keepAlive: { kind: 'none' },
  mayTakeCall: (s) => s === 'ready',
};

/** One agent's line at the platform; `beforeReady` runs just before a Ready is judged (a call routed meanwhile). */
class Platform implements VendorAdapter {
  readonly name = 'mem';
  state: VendorAgentState = 'logged-out';
  call?: VendorCallIds;
  readonly log: string[] = [];
  failLogins = 0;
  beforeReady?: () => void;

  route(transactionId: string): void {
    if (this.state !== 'ready') throw new Error(`not ready: ${this.state}`);
    this.state = 'in-call';
    this.call = { transactionId };
  }
  end(): void {
    this.state = 'wrap-up';
  }
  async login(): Promise<void> {
    this.log.push('login');
    if (this.failLogins > 0) {
      this.failLogins--;
      throw new Error('503 from the platform');
    }
    if (this.state === 'logged-out') this.state = 'logged-in';
  }
  async ready(): Promise<void> {
    this.beforeReady?.();
    delete this.beforeReady;
    this.log.push('ready');
    if (this.state === 'in-call') throw new Error('Ready is not allowed while the agent is INCALL');
    this.state = 'ready';
    delete this.call;
  }
  async notReady(): Promise<void> {
    if (this.state === 'in-call') throw new Error('NotReady is not allowed while the agent is INCALL');
    this.state = 'not-ready';
  }
  async logout(): Promise<void> {
    this.state = 'logged-out';
  }
  async status() {
    return { state: this.state, ...(this.call && (this.state === 'in-call' || this.state === 'wrap-up') ? { call: this.call } : {}) };
  }
  async callIds(_a: string, hint: VendorCallIds) {
    return hint;
  }
  async screenPop() {
    return {};
  }
  async transfer(): Promise<void> {}
  async setTermCode(): Promise<void> {}
  async updateContact(): Promise<void> {}
}

function setup(o: { pending?: () => number } = {}) {
  const clock = new FakeClock();
  const pool = new AgentPool([profile]);
  const platform = new Platform();
  const orphans: VendorCallIds[] = [];
  const resumed: string[] = [];
  const lc = new AgentLifecycle(profile, platform, policy, pool, pino({ level: 'silent' }), {
    clock,
    checkEveryMs: 15_000,
    pendingWrapUp: o.pending ?? (() => 0),
    resumeWrapUp: (id) => void resumed.push(id),
    orphanedCall: async (_id, ids) => void orphans.push(ids),
  });
  const agent = () => pool.list()[0]!;
  return { clock, pool, platform, orphans, resumed, lc, agent };
}

describe('AgentLifecycle: calls the platform holds the agent on', () => {
  it('a call routed while the agent is signed in (Ready refused): tried again within a second, its wrap-up adopted once', async () => {
    const t = setup();
    // The dead owner's session left the agent Ready: the platform routes a call as we sign in.
    t.platform.state = 'ready';
    t.platform.beforeReady = () => t.platform.route('T1');
    t.lc.start();
    await t.lc.check();
    expect(t.lc.states.get('a1')).toMatchObject({ phase: 'failed' });
    expect(t.agent().state).toBe('not-ready');
    // Our refusal (480) ends the call at the platform, which leaves the agent in wrap-up.
    t.platform.end();
    await t.clock.run(1_000, 100);
    expect(t.orphans).toEqual([{ transactionId: 'T1' }]);
    expect(t.lc.states.get('a1')).toMatchObject({ phase: 'ready' });
    // The adopted wrap-up's own Ready (the outbox's) puts the agent in service, not the lifecycle.
    expect(t.agent().state).toBe('not-ready');
    expect(t.platform.log.filter((l) => l === 'ready')).toHaveLength(1);
    await t.clock.run(60_000, 1_000);
    expect(t.orphans).toHaveLength(1);
    t.lc.stop();
  });

  it('a call still up at the platform is not touched: the agent waits out of service, checked with back-off until it ends', async () => {
    const t = setup();
    t.platform.state = 'in-call';
    t.platform.call = { transactionId: 'T2' };
    t.lc.start();
    await t.lc.check();
    expect(t.orphans).toEqual([]);
    expect(t.lc.states.get('a1')?.lastError).toMatch(/holds the agent on a call this node does not have/);
    expect(t.agent().state).toBe('not-ready');
    // 1 s, 2 s, 4 s: three more sign-ins in 7 s, none of them a Ready.
    await t.clock.run(7_000, 100);
    expect(t.platform.log).toEqual(['login', 'login', 'login', 'login']);
    t.platform.end();
    await t.clock.run(8_000, 100);
    expect(t.orphans).toEqual([{ transactionId: 'T2' }]);
    t.lc.stop();
  });

  it('a call whose wrap-up is pending here is resumed, never adopted', async () => {
    let pending = 1;
    const t = setup({ pending: () => pending });
    t.platform.state = 'wrap-up';
    t.platform.call = { transactionId: 'T3' };
    await t.lc.check();
    expect(t.resumed).toEqual(['a1']);
    expect(t.orphans).toEqual([]);
    pending = 0;
  });

  it('failed sign-ins are retried at 1, 2, 4, 8 s, then every check period', async () => {
    const t = setup();
    t.platform.failLogins = 6;
    t.lc.start();
    await t.lc.check();
    const at: number[] = [];
    for (let s = 0; s < 60 && t.lc.states.get('a1')?.phase !== 'ready'; s++) {
      const before = t.platform.log.length;
      await t.clock.run(1_000, 100);
      if (t.platform.log.length > before) at.push(t.clock.now());
    }
    // Attempts at 1, 3, 7, 15 s (doubling), then at most one check period apart; the periodic
    // check at 15 s and the retry due then are one sign-in, and no second chain of retries starts.
    expect(at.slice(0, 4)).toEqual([1_000, 3_000, 7_000, 15_000]);
    expect(t.platform.log.filter((l) => l === 'login')).toHaveLength(7);
    expect(t.lc.states.get('a1')).toMatchObject({ phase: 'ready' });
    expect(t.agent().state).toBe('ready');
    t.lc.stop();
  });

  it('a platform that keeps refusing: one sign-in per check period at most, never a pile of retries', async () => {
    const t = setup();
    t.platform.failLogins = 1_000;
    t.lc.start();
    // The first sign-in off the periodic checks' beat: retries and checks would run as two chains.
    await t.clock.run(500, 100);
    await t.lc.check();
    await t.clock.run(180_000, 500);
    // 0, 1, 3, 7, 15 s, then one per 15 s period (periodic checks and retries are one chain).
    const logins = t.platform.log.filter((l) => l === 'login').length;
    expect(logins).toBeGreaterThanOrEqual(15);
    expect(logins).toBeLessThanOrEqual(17);
    t.lc.stop();
  });

  it('a handover the platform refuses (a call was just routed to the agent) is put off; when stopping it goes anyway', async () => {
    const t = setup();
    t.platform.state = 'logged-out';
    await t.lc.check();
    expect(t.agent().state).toBe('ready');
    t.platform.route('T9');
    expect(await t.lc.handOver('a1')).toBe(false);
    expect(t.lc.states.get('a1')?.phase).toBe('ready');
    expect(t.agent().state).toBe('ready');
    // That call came here and was wrapped up (term code, Ready): now the agent may go.
    t.platform.state = 'ready';
    expect(await t.lc.handOver('a1')).toBe(true);
    expect(t.lc.states.get('a1')?.phase).toBe('logged-out');
    expect(t.agent().state).toBe('not-ready');
    const u = setup();
    await u.lc.check();
    u.platform.route('T10');
    expect(await u.lc.handOver('a1', true)).toBe(true);
  });

  it('an agent in service audited: a call the platform holds it in wrap-up for and nobody here has is adopted, once', async () => {
    const t = setup();
    t.platform.state = 'logged-out';
    t.lc.start();
    await t.lc.check();
    expect(t.agent().state).toBe('ready');
    // An INVITE that never arrived here (cancelled on its way): the platform has the agent in wrap-up.
    t.platform.route('T11');
    t.platform.end();
    await t.clock.run(60_000, 1_000);
    expect(t.orphans).toEqual([]);
    await t.clock.run(16_000, 1_000);
    expect(t.orphans).toEqual([{ transactionId: 'T11' }]);
    expect(t.agent().state).toBe('not-ready');
    t.lc.stop();
  });

  it('a wrap-up that failed for good: the agent is signed in again a second later (its wrap-up resumed), not a check period later', async () => {
    let pending = 1;
    const t = setup({ pending: () => pending });
    t.platform.state = 'logged-out';
    t.lc.start();
    await t.lc.check();
    expect(t.resumed).toEqual(['a1']);
    t.lc.markFailed('a1', 'Ready refused');
    await t.clock.run(1_000, 100);
    expect(t.resumed).toEqual(['a1', 'a1']);
    pending = 0;
    t.lc.stop();
  });

  it('an audit that finds the agent on a call (one being routed here this moment) changes nothing', async () => {
    const t = setup();
    t.platform.state = 'logged-out';
    t.lc.start();
    await t.lc.check();
    t.platform.route('T13');
    await t.clock.run(76_000, 1_000);
    expect(t.orphans).toEqual([]);
    expect(t.agent().state).toBe('ready');
    expect(t.lc.states.get('a1')?.phase).toBe('ready');
    t.lc.stop();
  });

  it('a handover finds a call nobody wrapped up: adopted here, the agent not given away (no NotReady to lose it)', async () => {
    const t = setup();
    t.platform.state = 'logged-out';
    await t.lc.check();
    t.platform.route('T12');
    t.platform.end();
    expect(await t.lc.handOver('a1')).toBe(false);
    expect(t.orphans).toEqual([{ transactionId: 'T12' }]);
    expect(t.platform.state).toBe('wrap-up');
  });
});
