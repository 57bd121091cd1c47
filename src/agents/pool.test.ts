import { describe, expect, it } from 'vitest';
import { AgentPool } from './pool.js';
import type { SipProfile } from '../config/types.js';

const profile = {
  name: 'p',
  agents: [
    { id: 'a1', number: '+18990000001', key: '18990000001', initialState: 'ready', engine: 'builtin:echo' },
    { id: 'a2', number: '+18990000002', key: '18990000002', initialState: 'not-ready', engine: 'builtin:echo' },
  ],
} as unknown as SipProfile;

describe('AgentPool', () => {
  it('leases one call per agent and refuses with the reason', () => {
    const pool = new AgentPool([profile]);
    const l = pool.lease('p', '18990000001', 'c1');
    expect(l.ok).toBe(true);
    expect(pool.lease('p', '18990000001', 'c2')).toMatchObject({ ok: false, why: 'busy' });
    expect(pool.lease('p', '18990000002', 'c3')).toMatchObject({ ok: false, why: 'not-ready' });
    expect(pool.lease('p', '19999999999', 'c4')).toMatchObject({ ok: false, why: 'unknown' });
    expect(pool.lease('other', '18990000001', 'c5')).toMatchObject({ ok: false, why: 'unknown' });
    if (l.ok) {
      l.release();
      l.release();
    }
    expect(pool.counts()).toEqual({ ready: 1, 'not-ready': 1, busy: 0 });
  });

  it('keeps its count of ready agents equal to counting them, through leases, releases and state changes', () => {
    const pool = new AgentPool([profile]);
    const check = (): void => expect(pool.readyCount).toBe(pool.counts().ready);
    check();
    const l = pool.lease('p', '18990000001', 'c1');
    check();
    pool.setIdleState('a2', 'ready');
    check();
    pool.setIdleState('a1', 'not-ready');
    check();
    if (l.ok) l.release();
    check();
    pool.setOwned('a2', false);
    check();
    pool.setIdleState('a2', 'ready');
    pool.setIdleState('a2', 'ready');
    expect(pool.readyCount).toBe(1);
    check();
  });

  it('applies a NotReady set during a call when the call ends', () => {
    const pool = new AgentPool([profile]);
    const l = pool.lease('p', '18990000001', 'c1');
    pool.setIdleState('a1', 'not-ready');
    expect(pool.find('p', '18990000001')!.state).toBe('busy');
    if (l.ok) l.release();
    expect(pool.find('p', '18990000001')!.state).toBe('not-ready');
  });

  it('an agent given to another node comes back NotReady: it waits for its own sign-in and Ready', () => {
    const pool = new AgentPool([profile]);
    pool.setOwned('a1', false);
    expect(pool.lease('p', '18990000001', 'c1')).toMatchObject({ ok: false, why: 'elsewhere' });
    pool.setOwned('a1', true);
    expect(pool.lease('p', '18990000001', 'c2')).toMatchObject({ ok: false, why: 'not-ready' });
    pool.setIdleState('a1', 'ready');
    expect(pool.lease('p', '18990000001', 'c3').ok).toBe(true);
  });
});
