/**
 * The per-agent event loop against the strict simulator over real HTTP: events reach the sink in
 * order as the boundary's inbound events, the loop keeps polling (so the 2-minute heartbeat rule
 * never signs the agent out while it runs), it survives a poll the platform refuses, and it stops.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../types.js';
import { CcGatewayClient } from './client.js';
import { AgentEventLoops, toInbound } from './events.js';
import { startCcSimServer, type CcSimServer } from './simulator/server.js';
import { CcGatewayState, HEARTBEAT_MS } from './simulator/state.js';

const log = pino({ level: 'silent' });
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

const until = async (pred: () => boolean, ms: number, what: string): Promise<void> => {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`not met within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('toInbound', () => {
  it('maps the CC-Gateway events to the boundary', () => {
    const ev = (eventType: string, content: Record<string, unknown> = {}) => toInbound('1001', { eventType, workNo: '1001', content });
    expect(ev('AgentState_Ready')).toEqual({ type: 'agent-state', agentId: '1001', state: 'ready' });
    expect(ev('AgentState_Work')).toEqual({ type: 'agent-state', agentId: '1001', state: 'wrap-up' });
    expect(ev('AgentState_SetRest_Success')).toEqual({ type: 'agent-state', agentId: '1001', state: 'not-ready', reason: 'rest' });
    expect(ev('AgentEvent_Customer_Release', { callid: '1700-12' })).toEqual({ type: 'call-released', agentId: '1001', ids: { callid: '1700-12' } });
    expect(ev('AgentEvent_Hold', { callid: '1700-12' })).toEqual({ type: 'call-action', agentId: '1001', ids: { callid: '1700-12' }, action: { kind: 'hold' } });
    // The phone-linkage events spell it callId (event reference, "Phone Linkage Events").
    expect(ev('AgentEvent_linkagePhoneMute', { callId: '1700-12' })).toEqual({ type: 'call-action', agentId: '1001', ids: { callid: '1700-12' }, action: { kind: 'mute' } });
    expect(ev('AgentEvent_linkagePhoneUnMute', { callId: '1700-12' })).toEqual({ type: 'call-action', agentId: '1001', ids: { callid: '1700-12' }, action: { kind: 'unmute' } });
    expect(ev('AgentEvent_linkagePhoneHold', { callId: '1700-12' })?.type).toBe('call-action');
    expect(ev('AgentEvent_linkagePhoneUnHold', { callId: '1700-12' })).toMatchObject({ action: { kind: 'resume' } });
    expect(ev('AgentEvent_Ringing', { callid: '1700-12' })).toBeNull();
  });
});

describe('AgentEventLoops', () => {
  it('delivers events in order, keeps the agent signed in past the heartbeat window, and stops', async () => {
    let t = 5_000_000;
    const state = new CcGatewayState([{ agentId: '1001', password: 'pw' }], () => t);
    const sim: CcSimServer = await startCcSimServer(state, { pollHoldMs: 100, log });
    cleanup.push(() => sim.close());
    const client = new CcGatewayClient({ baseUrl: sim.url, pollHoldMs: 100, log });
    const seen: InboundEvent[] = [];
    const loops = new AgentEventLoops(client, (e) => void seen.push(e), log, () => 5);
    cleanup.push(() => loops.stopAll());
    await client.signIn('1001', { password: 'pw', phonenum: '70001', status: 3 });
    loops.start('1001');
    await client.sayFree('1001');
    await client.work('1001');
    await until(() => seen.length >= 3, 3000, 'three events');
    expect(seen.map((e) => (e.type === 'agent-state' ? e.state : e.type))).toEqual(['not-ready', 'ready', 'wrap-up']);
    // Three heartbeat windows pass on the platform's clock while the loop polls: still signed in.
    for (let i = 0; i < 3; i++) {
      const polls = loops.stats.polls;
      t += HEARTBEAT_MS - 1000;
      await until(() => loops.stats.polls > polls + 1, 3000, 'polls go on');
    }
    expect(state.snapshot()[0]).toMatchObject({ signedIn: true, heartbeatSignOuts: 0 });
    loops.stop('1001');
    await new Promise((r) => setTimeout(r, 250));
    const after = loops.stats.polls;
    await new Promise((r) => setTimeout(r, 300));
    expect(loops.stats.polls).toBe(after);
  });

  it('a session the platform dropped (signed out while the loop ran) is signed in again by the poll, and events flow again', async () => {
    let t = 5_000_000;
    const state = new CcGatewayState([{ agentId: '1001', password: 'pw' }], () => t);
    const sim = await startCcSimServer(state, { pollHoldMs: 100, log });
    cleanup.push(() => sim.close());
    const client = new CcGatewayClient({ baseUrl: sim.url, pollHoldMs: 100, log });
    const seen: InboundEvent[] = [];
    const loops = new AgentEventLoops(client, (e) => void seen.push(e), log, () => 5);
    cleanup.push(() => loops.stopAll());
    await client.signIn('1001', { password: 'pw', phonenum: '70001' });
    // The platform's clock jumps past the heartbeat window between two polls.
    t += HEARTBEAT_MS + 5000;
    loops.start('1001');
    await until(() => client.stats.reSignIns >= 1, 3000, 'signed in again');
    await until(() => seen.some((e) => e.type === 'agent-state' && e.state === 'ready'), 3000, 'the new session\'s Ready');
    expect(loops.stats.invalid).toBeGreaterThanOrEqual(1);
    expect(state.snapshot()[0]).toMatchObject({ signedIn: true, heartbeatSignOuts: 1 });
  });
});
