/**
 * The simulator's voice rules with an injected clock: longest-idle selection among signed-in agents
 * of the skill queue with a registered phone, the event order of a call (Ringing, Talking, release,
 * work), the wrap-up time with auto-enter-idle, hold/gethold, and the refusals of voicecall/transfer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CcCalls, type SimVoiceCall } from './calls.js';
import type { PhoneRegistrar } from './phones.js';
import { CcGatewayState, RET, SimRefusal } from './state.js';

afterEach(() => void vi.useRealTimers());

function setup(registered: string[] = ['70001', '70002']) {
  let t = 1_000_000;
  const state = new CcGatewayState([{ agentId: '1001', password: 'pw', skills: ['1'] }, { agentId: '1002', password: 'pw', skills: ['1', '2'] }], () => t);
  // The registrar's only part the call side reads: a phone's live binding.
  const phones = { lookup: (n: string) => (registered.includes(n) ? { number: n, contact: `sip:${n}@127.0.0.1:5070`, expiresAt: Infinity } : undefined) } as unknown as PhoneRegistrar;
  const rung: SimVoiceCall[] = [];
  const hungUp: string[] = [];
  const calls = new CcCalls(state, phones, [{ id: '1', name: 'AI', wrapUpSeconds: 5 }, { id: '2', name: 'Humans' }], { ring: (c) => rung.push(c), hangup: (c) => hungUp.push(c.callid) });
  const signIn = (id: string, phonenum: string, autoenteridle = false) => state.signIn(id, { password: 'pw', phonenum, autoenteridle }, false).guid;
  const events = (id: string, guid: string) => {
    const out: string[] = [];
    for (let e = state.poll(id, guid); e; e = state.poll(id, guid)) out.push(e.eventType);
    return out;
  };
  return { state, calls, rung, hungUp, signIn, events, advance: (ms: number) => void (t += ms) };
}

const refusal = (fn: () => unknown): { retcode: string; message: string } => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimRefusal) return { retcode: e.retcode, message: e.message };
    throw e;
  }
  throw new Error('not refused');
};

describe('huawei-aicc simulator: calls', () => {
  it('offers the longest-idle agent of the queue with a registered phone; busy or unregistered agents are passed over', () => {
    const s = setup(['70002']);
    const g1 = s.signIn('1001', '70001');
    s.advance(10);
    const g2 = s.signIn('1002', '70002');
    // 1001 idled first but its phone is not registered.
    const c = s.calls.route({ skill: '1' });
    expect(c).toMatchObject({ agentId: '1002', contact: 'sip:70002@127.0.0.1:5070', state: 'ringing' });
    expect(s.rung).toHaveLength(1);
    expect(refusal(() => s.calls.route({ skill: '1' }))).toEqual({ retcode: RET.wrongState, message: 'no idle agent with a registered phone in skill queue 1' });
    expect(refusal(() => s.calls.route({ skill: '7' })).message).toBe('no skill queue 7');
    expect(s.events('1002', g2)).toEqual(['AgentState_Ready', 'AgentEvent_Ringing']);
    expect(s.events('1001', g1)).toEqual(['AgentState_Ready']);
  });

  it('Ringing, Talking, release by the customer, work; the agent leaves work only when told; one work request recorded', () => {
    const s = setup();
    const g = s.signIn('1001', '70001');
    const c = s.calls.route({ agent: '1001' });
    s.calls.legAnswered(c.callid);
    expect(refusal(() => s.state.setStatus('1001', g, 'sayfree')).retcode).toBe(RET.wrongState);
    s.calls.customerHangup(c.callid);
    expect(s.hungUp).toEqual([c.callid]);
    expect(s.events('1001', g)).toEqual(['AgentState_Ready', 'AgentEvent_Ringing', 'AgentEvent_Talking', 'AgentEvent_Customer_Release', 'AgentState_Work']);
    expect(s.state.statusOf('1001')).toBe('work');
    s.state.setStatus('1001', g, 'work');
    s.state.setStatus('1001', g, 'cancelwork');
    expect(c).toMatchObject({ releasedBy: 'customer', workRequests: 1 });
    expect(c.idleAt).toBeDefined();
    expect(s.state.statusOf('1001')).toBe('idle');
  });

  it('with auto-enter-idle the skill wrap-up time returns the agent to idle', () => {
    vi.useFakeTimers();
    const s = setup();
    const g = s.signIn('1001', '70001', true);
    const c = s.calls.route({ agent: '1001' });
    s.calls.legAnswered(c.callid);
    s.calls.legEnded(c.callid, 'phone');
    expect(s.state.statusOf('1001')).toBe('work');
    vi.advanceTimersByTime(4999);
    expect(s.state.statusOf('1001')).toBe('work');
    vi.advanceTimersByTime(1);
    expect(s.state.statusOf('1001')).toBe('idle');
    expect(s.events('1001', g).slice(-3)).toEqual(['AgentEvent_Call_Release', 'AgentState_Work', 'AgentState_Ready']);
    s.calls.close();
  });

  it('hold and gethold need a talking call and the right call id; transfer refuses what the interface refuses', () => {
    const s = setup();
    const g = s.signIn('1002', '70002');
    expect(refusal(() => s.calls.hold('1002', g)).message).toBe('hold: agent 1002 has no call');
    const c = s.calls.route({ agent: '1002' });
    expect(refusal(() => s.calls.hold('1002', g)).message).toBe(`hold: call ${c.callid} is ringing`);
    s.calls.legAnswered(c.callid);
    s.calls.hold('1002', g);
    expect(refusal(() => s.calls.getHold('1002', g, 'other')).message).toBe("gethold: call other is not agent 1002's call");
    s.calls.getHold('1002', g, c.callid);
    expect(refusal(() => s.calls.hold('1002', 'bad-guid')).retcode).toBe(RET.badGuid);
    expect(refusal(() => s.calls.transfer('1002', g, { devicetype: 9, address: '1' })).retcode).toBe(RET.badParameter);
    expect(refusal(() => s.calls.transfer('1002', g, { devicetype: 1, address: '42' })).message).toBe('transfer: no skill queue 42');
    expect(refusal(() => s.calls.transfer('1002', g, { devicetype: 5, address: 'sales' })).message).toBe('transfer: sales is not a phone number');
    s.calls.transfer('1002', g, { devicetype: 5, address: '+15550100100' });
    expect(c).toMatchObject({ releasedBy: 'transfer', transferredTo: { devicetype: 5, address: '+15550100100', mode: 0 } });
    expect(s.events('1002', g)).toEqual(['AgentState_Ready', 'AgentEvent_Ringing', 'AgentEvent_Talking', 'AgentEvent_Hold', 'AgentEvent_Talking', 'AgentEvent_Call_Release', 'AgentState_Work']);
  });
});
