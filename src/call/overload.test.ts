/**
 * Overload shedding: which signal trips, and what a shed call does at the SIP edge and at the
 * contact center (503 + Retry-After before any media; its term code at once, its Ready only
 * Retry-After later, so the platform offers the gateway less while it recovers). Fake clock,
 * in-memory SIP, fake media plane.
 */
import { describe, expect, it } from 'vitest';
import { invite, setup } from './manager-harness.js';
import { only, overloaded, ShedController } from './overload.js';

const limits = { eventLoopDelayMs: 100, eventLoopUtilization: 90, mediaLatenessMs: 50, pendingWrapUps: 10, wrapUpAgeMs: 2000, callsInSetup: 2 };
const calm = { eventLoopDelayMs: () => 5, eventLoopUtilization: () => 30, mediaLatenessMs: () => 1, pendingWrapUps: () => 0, wrapUpAgeMs: () => 0, callsInSetup: () => 0 };

describe('overloaded()', () => {
  it('names the first signal over its limit, with its value', () => {
    expect(overloaded(limits, calm)).toBeNull();
    expect(overloaded(limits, { ...calm, eventLoopDelayMs: () => 180 })).toEqual({ signal: 'eventLoopDelayMs', value: 180, limit: 100 });
    expect(overloaded(limits, { ...calm, mediaLatenessMs: () => 51 })).toMatchObject({ signal: 'mediaLatenessMs' });
    expect(overloaded(limits, { ...calm, eventLoopUtilization: () => 97 })).toEqual({ signal: 'eventLoopUtilization', value: 97, limit: 90 });
    expect(overloaded(limits, { ...calm, pendingWrapUps: () => 11 })).toMatchObject({ signal: 'pendingWrapUps' });
    expect(overloaded(limits, { ...calm, wrapUpAgeMs: () => 2500 })).toEqual({ signal: 'wrapUpAgeMs', value: 2500, limit: 2000 });
    expect(overloaded(limits, { ...calm, callsInSetup: () => 3, eventLoopDelayMs: () => 500 })).toMatchObject({ signal: 'callsInSetup' });
  });

  it('a limit of 0 turns its signal off; only() keeps the named signals and turns every other off', () => {
    expect(overloaded({ ...limits, eventLoopDelayMs: 0 }, { ...calm, eventLoopDelayMs: () => 10_000 })).toBeNull();
    expect(only(limits, ['callsInSetup'])).toEqual({ eventLoopDelayMs: 0, eventLoopUtilization: 0, mediaLatenessMs: 0, pendingWrapUps: 0, wrapUpAgeMs: 0, callsInSetup: 2 });
    expect(overloaded(only(limits, ['callsInSetup']), { ...calm, eventLoopUtilization: () => 100, wrapUpAgeMs: () => 9000 })).toBeNull();
  });
});

describe('ShedController: the share of calls refused', () => {
  it('doubles every 500 ms while a soft signal is over, refuses calls evenly, and halves every 500 ms once under', () => {
    let t = 0;
    let age = 2200;
    const c = new ShedController(() => limits, { ...calm, wrapUpAgeMs: () => age }, () => t);
    const refusedOf = (n: number): number => Array.from({ length: n }, () => c.decide()).filter(Boolean).length;
    expect(refusedOf(8)).toBe(1);
    expect(c.shedShare).toBe(0.125);
    t += 500;
    expect(refusedOf(8)).toBe(2);
    t += 500;
    expect(refusedOf(8)).toBe(4);
    t += 500;
    expect(refusedOf(8)).toBe(8);
    expect(c.decide()).toEqual({ signal: 'wrapUpAgeMs', value: 2200, limit: 2000 });
    age = 100;
    t += 500;
    c.decide();
    expect(c.shedShare).toBe(0.5);
    t += 1000;
    c.decide();
    expect(c.shedShare).toBe(0.125);
    t += 20_000;
    c.decide();
    expect(c.shedShare).toBe(0);
    expect(refusedOf(8)).toBe(0);
  });

  it('far over a limit refuses at once (twice the limit: every call); calls in setup is a hard limit', () => {
    const c = new ShedController(() => limits, { ...calm, eventLoopDelayMs: () => 300 }, () => 0);
    expect(c.decide()).toMatchObject({ signal: 'eventLoopDelayMs' });
    expect(c.shedShare).toBe(1);
    const h = new ShedController(() => limits, { ...calm, callsInSetup: () => 3 }, () => 0);
    expect([h.decide(), h.decide()]).toEqual([{ signal: 'callsInSetup', value: 3, limit: 2 }, { signal: 'callsInSetup', value: 3, limit: 2 }]);
  });
});

describe('a call refused for overload', () => {
  it('gets 503 with Retry-After and the signal in the reason, opens no media, and its agent is wrapped up: term code now, Ready after Retry-After', async () => {
    let delay = 400;
    const env = await setup({ gateway: ', overload: { eventLoopDelayMs: 150 }', eventLoopDelayMs: () => delay });
    const inv = invite({ platformId: 'T-OV1' });
    await env.send(inv.text);
    const final = env.finalOf(inv.callId)!;
    expect(final.status).toBe(503);
    expect(final.reason).toBe('Gateway overloaded (eventLoopDelayMs 400 over 150)');
    expect(final.headers.get('Retry-After')).toBe('5');
    expect(env.media.sessions).toHaveLength(0);
    expect(env.adapter.calls).toEqual([`termCode va-01 T-OV1 ${env.link.cc.termCodes.failed}`]);
    expect(env.agent('va-01').state).not.toBe('ready');
    await env.clock.run(4900);
    await env.settle();
    expect(env.adapter.calls).toHaveLength(1);
    await env.clock.run(200);
    await env.settle();
    expect(env.adapter.calls).toEqual([`termCode va-01 T-OV1 ${env.link.cc.termCodes.failed}`, 'ready va-01']);
    expect(env.agent('va-01').state).toBe('ready');
    expect(env.manager.callStats.shed.get('eventLoopDelayMs')).toBe(1);
    // Headroom back: the share halves every 500 ms, then the next call is taken.
    delay = 5;
    await env.clock.run(6 * 500);
    const next = invite({ platformId: 'T-OV2' });
    await env.send(next.text);
    expect(env.finalOf(next.callId)?.status).toBe(200);
  });

  it('calls in setup over the limit: the next INVITE is shed while the first is still being set up', async () => {
    const env = await setup({ gateway: ', overload: { callsInSetup: 1, eventLoopDelayMs: 0 }' });
    env.media.mode = 'hold';
    const a = invite({ platformId: 'T-S1' });
    const b = invite({ to: '+18990000002', platformId: 'T-S2' });
    await env.send(a.text);
    await env.send(b.text);
    expect(env.finalOf(b.callId)?.status).toBe(503);
    expect(env.manager.callStats.shed.get('callsInSetup')).toBe(1);
    env.media.releaseOpen();
    await env.settle();
    expect(env.finalOf(a.callId)?.status).toBe(200);
    expect(env.manager.callsInSetup).toBe(0);
  });
});

describe('a saturated main thread (event-loop utilization over its limit)', () => {
  it('does not refuse calls of a contact-center profile (the Ready gate answers it); the gate lowers its cap', async () => {
    const env = await setup({ gateway: ', overload: { eventLoopUtilization: 90 }', eventLoopUtilization: () => 99 });
    const routed = invite({ platformId: 'T-U1' });
    await env.send(routed.text);
    expect(env.finalOf(routed.callId)?.status).toBe(200);
    expect(env.manager.callStats.shed.size).toBe(0);
    await env.clock.run(500);
    // In service: 1 call and 2 agents Ready, under the floor of 4.
    expect(env.manager.headroom.gate.limit).toBe(4);
  });

  it('refuses calls nobody routed: a controller told to ignore utilization does not, the other does', () => {
    const signals = { ...calm, eventLoopUtilization: () => 99 };
    const open = new ShedController(() => limits, signals, () => 0);
    const routed = new ShedController(() => limits, signals, () => 0, ['eventLoopUtilization']);
    const refused = (c: ShedController): number => Array.from({ length: 16 }, () => c.decide()).filter(Boolean).length;
    expect(refused(open)).toBe(2);
    expect(refused(routed)).toBe(0);
  });
});
