import { describe, expect, it } from 'vitest';
import { LvCode } from '../wire.js';
import { Acd, checkArrivals } from './acd.js';
import { joinService, ready } from './ops-agent.js';
import { SimEmitter, SimError } from './records.js';
import { SimState } from './state.js';

/** A simulator state with `n` agents joined to service 1001 and READY, on a clock the test moves. */
function setup(n: number, talkFromAnswer = false) {
  let t = 1_000_000;
  const st = new SimState(
    {
      accessToken: 'x', clientName: 'c', sessionIdleMs: 3_600_000, clock: () => t, conferenceJoinMs: 200, requireTermCodeBeforeReady: true, newId: () => 'id',
      agents: Array.from({ length: n }, (_, i) => ({ user: `a${i + 1}`, password: 'p' })),
      services: [{ id: '1001', termCodes: [{ id: '1', name: 'Done' }], phonebooks: [] }, { id: '2002', termCodes: [], phonebooks: [] }],
    },
    new SimEmitter((e) => {
      throw e;
    }),
  );
  const soon: (() => void)[] = [];
  const acd = new Acd(st, { now: () => t, schedule: (fn) => void soon.push(fn), talkFromAnswer: () => talkFromAnswer });
  for (let i = 1; i <= n; i++) {
    const a = st.agentMap.get(`a${i}`)!;
    joinService(st, a, '1001', `899000000${i}`);
    t += 1;
    ready(st, a);
  }
  const advance = (ms: number): void => {
    t += ms;
    acd.tick();
  };
  const runSoon = (): void => {
    for (const fn of soon.splice(0)) fn();
  };
  return { st, acd, advance, runSoon, now: () => t };
}

/** The agent's wrap-up as the gateway does it: term code, then Ready. */
function wrapUp(st: SimState, user: string): void {
  const a = st.agentMap.get(user)!;
  st.callMap.get(a.lastCall!)!.termCodes.push({ termCodeId: '1', termCodeName: 'Done', moveAgentToNotReady: false, phoneDialed: '', at: st.now() } as never);
  ready(st, a);
}

const cfg = { talkMs: 400, maxWaitMs: 5000, prefix: 't-' };

describe('the sandbox ACD (customers arriving at a rate)', () => {
  it('routes arrivals to the READY agent idle longest, hangs up after the talk time, and counts', () => {
    const { st, acd, advance } = setup(3);
    acd.configure({ ...cfg, ratePerSec: 100 });
    advance(20); // two customers at 100/s
    expect(st.callMap.get('t-1')?.agentUser).toBe('a1');
    expect(st.callMap.get('t-2')?.agentUser).toBe('a2');
    expect(st.agentMap.get('a3')?.state).toBe('READY');
    advance(400);
    // 42 more arrived in the 400 ms; one agent was left to take one of them.
    expect(st.callMap.get('t-3')?.agentUser).toBe('a3');
    expect(st.callMap.get('t-1')).toMatchObject({ status: 'ended', endedBy: 'customer' });
    expect(st.callMap.get('t-2')).toMatchObject({ status: 'ended', endedBy: 'customer' });
    // Arrivals are spaced 10 ms apart even though the clock jumped 400 ms: t-3 waited 390 ms.
    expect(acd.snapshot()).toMatchObject({ arrived: 42, routed: 3, hungUp: 2, abandoned: 0, waiting: 39, waitMs: { p50: 10, max: 390 } });
  });

  it('gives a waiting customer to an agent the moment it is READY, outside the operation that made it READY', () => {
    const { st, acd, advance, runSoon } = setup(1);
    acd.configure({ ...cfg, ratePerSec: 100 });
    advance(20);
    advance(400); // a1's customer hung up; a1 in WRAPUP, customers waiting
    expect(st.agentMap.get('a1')?.state).toBe('WRAPUP');
    wrapUp(st, 'a1');
    // Still READY for whoever made it READY: the ACD routes after the operation.
    expect(st.agentMap.get('a1')?.state).toBe('READY');
    runSoon();
    expect(st.agentMap.get('a1')).toMatchObject({ state: 'INCALL', currentCall: 't-2' });
  });

  it('starts the talk time at the answer when the SIP leg is placed', () => {
    const { st, acd, advance } = setup(1, true);
    acd.configure({ ...cfg, ratePerSec: 100 });
    advance(10);
    advance(1000);
    expect(st.callMap.get('t-1')?.status).toBe('active'); // not answered: the customer waits for it
    // Stopping the arrivals with another talk time does not change the calls already routed.
    acd.configure({ ...cfg, ratePerSec: 0, talkMs: 30_000 });
    acd.answered('t-1');
    advance(399);
    expect(st.callMap.get('t-1')?.status).toBe('active');
    advance(1);
    expect(st.callMap.get('t-1')).toMatchObject({ status: 'ended', endedBy: 'customer' });
  });

  it('lets customers abandon after maxWaitMs, and counts a call the agent side ended', () => {
    const { st, acd, advance } = setup(1);
    acd.configure({ ...cfg, ratePerSec: 10, maxWaitMs: 1000 });
    advance(100); // t-1 to a1
    advance(1000); // 10 more arrived; a1 is in WRAPUP (nobody wraps it up)
    advance(1000); // those who arrived at +200..+1000 ms waited over 1 s; the one of +1100 exactly 1 s
    expect(acd.snapshot()).toMatchObject({ arrived: 21, routed: 1, abandoned: 9, waiting: 11 });
    wrapUp(st, 'a1');
    advance(10);
    const tid = st.agentMap.get('a1')!.currentCall!;
    // The gateway refused the call: the placer reports the leg ended by the agent's side.
    st.events.emit('call-ended', st.callMap.get(tid)!, 'agent');
    expect(acd.snapshot()).toMatchObject({ endedByAgent: 1, hungUp: 1 });
  });

  it('serves one service only when told, and stops (dropping the queue) on ratePerSec 0', () => {
    const { st, acd, advance } = setup(2);
    expect(() => acd.configure({ ...cfg, ratePerSec: 10, serviceId: '9999' })).toThrow(SimError);
    acd.configure({ ...cfg, ratePerSec: 100, serviceId: '2002' });
    advance(100);
    expect(acd.snapshot()).toMatchObject({ arrived: 10, routed: 0, waiting: 10 });
    expect(st.agentMap.get('a1')?.state).toBe('READY');
    // Stopping keeps the counters (the calls still up are counted as they end); the queue is dropped.
    expect(acd.configure({ ...cfg, ratePerSec: 0 }, true)).toMatchObject({ waiting: 0, arrived: 10, dropped: 10 });
    expect(acd.configure({ ...cfg, ratePerSec: 5 })).toMatchObject({ arrived: 0, dropped: 0 });
    acd.configure({ ...cfg, ratePerSec: 0 });
    advance(100);
    expect(acd.idle).toBe(true);
  });

  it('refuses bad arrivals with a 400 naming the field', () => {
    const bad = (body: Record<string, unknown>): string => {
      try {
        checkArrivals(body, 'p-');
        return 'accepted';
      } catch (e) {
        expect(e).toMatchObject({ status: 400, code: LvCode.invalidField });
        return (e as Error).message;
      }
    };
    expect(bad({})).toBe("invalid field 'ratePerSec': must be a number within 0..5000");
    expect(bad({ ratePerSec: -1 })).toBe("invalid field 'ratePerSec': must be a number within 0..5000");
    expect(bad({ ratePerSec: 1, talkMs: '5' })).toBe("invalid field 'talkMs': must be a number within 0..3600000");
    expect(bad({ ratePerSec: 1, prefix: 'a b' })).toMatch(/^invalid field 'prefix'/);
    expect(bad({ ratePerSec: 1, bogus: 1 })).toBe("invalid arrivals: unknown key 'bogus'");
    expect(bad({ ratePerSec: 1, dropWaiting: 'yes' })).toBe("invalid field 'dropWaiting': must be true or false");
    expect(checkArrivals({ ratePerSec: 2.5 }, 'p-')).toEqual({ cfg: { ratePerSec: 2.5, talkMs: 30_000, maxWaitMs: 60_000, prefix: 'p-' }, dropWaiting: false });
  });
});
