import { describe, expect, it } from 'vitest';
import { CcGatewayError, guidOf, parsePoll, resultOf, RETCODE_SIGNED_IN_ELSEWHERE, signInBody, validAgentId } from './wire.js';

describe('CC-Gateway wire rules', () => {
  it('retcode "0" is success; any other retcode is an error naming the operation, the code and the message', () => {
    expect(resultOf('sayfree', { message: 'success', retcode: '0', result: { a: 1 } })).toEqual({ a: 1 });
    const e = (() => {
      try {
        resultOf('login', { message: 'agent has signed in elsewhere', retcode: RETCODE_SIGNED_IN_ELSEWHERE });
      } catch (err) {
        return err as CcGatewayError;
      }
    })()!;
    expect(e).toBeInstanceOf(CcGatewayError);
    expect(e.message).toBe('huawei-aicc login failed: retcode 100-002 (agent has signed in elsewhere)');
    expect(e.retcode).toBe('100-002');
    expect(() => resultOf('work', '<html>')).toThrow(/retcode malformed/);
  });

  it('the Guid comes from Set-GUID (JSESSIONID=<guid>; attributes, or bare)', () => {
    expect(guidOf('JSESSIONID=7c9a-11; Path=/; Secure')).toBe('7c9a-11');
    expect(guidOf('7c9a-11')).toBe('7c9a-11');
    expect(guidOf(undefined)).toBeUndefined();
    expect(guidOf('JSESSIONID=')).toBeUndefined();
  });

  it('a poll answer: no event, an event for this agent, or a clear reason', () => {
    expect(parsePoll('1001', { message: '', retcode: '0' })).toEqual({ kind: 'none' });
    expect(parsePoll('1001', { message: '', retcode: '0', event: null })).toEqual({ kind: 'none' });
    expect(parsePoll('1001', { message: '', retcode: '0', event: { eventType: 'AgentEvent_Ringing', workNo: '1001', content: { callid: '17-1' } } }))
      .toEqual({ kind: 'event', event: { eventType: 'AgentEvent_Ringing', workNo: '1001', content: { callid: '17-1' } } });
    expect(parsePoll('1001', { retcode: '0', event: { eventType: 'AgentState_Ready', workNo: 1001 } })).toMatchObject({ kind: 'event', event: { workNo: '1001', content: {} } });
    expect(parsePoll('1001', { retcode: '0', event: { eventType: 'AgentState_Ready', workNo: '1002' } })).toEqual({ kind: 'invalid', reason: "AgentState_Ready for agent 1002 on agent 1001's poll" });
    expect(parsePoll('1001', { retcode: '100-006', message: 'not signed in' })).toEqual({ kind: 'invalid', reason: 'poll refused: retcode 100-006 (not signed in)' });
    expect(parsePoll('1001', { retcode: '0', event: { workNo: '1001' } })).toEqual({ kind: 'invalid', reason: 'event without a string eventType' });
    expect(parsePoll('1001', 'oops')).toMatchObject({ kind: 'invalid' });
    // AgentEvent_Hold's content is the bare call id in the event reference's example.
    expect(parsePoll('49999', { message: '', retcode: '0', event: { eventType: 'AgentEvent_Hold', workNo: '49999', content: '1456402370-7' } })).toEqual({ kind: 'event', event: { eventType: 'AgentEvent_Hold', workNo: '49999', content: { callid: '1456402370-7' } } });
  });

  it('the sign-in body and its limits; agent ids 101-999999; `msg` as well as `message`', () => {
    expect(signInBody({ password: 'pw', phonenum: '6001', autoanswer: true, status: 4 })).toEqual({ password: 'pw', phonenum: '6001', autoanswer: true, status: 4 });
    expect(() => signInBody({ password: 'x'.repeat(33), phonenum: '6001' })).toThrow(/password must be 1-32/);
    expect(() => signInBody({ password: 'pw', phonenum: '' })).toThrow(/phonenum must be 1-24/);
    expect([validAgentId('101'), validAgentId('999999'), validAgentId('100'), validAgentId('1000000'), validAgentId('0101')]).toEqual([true, true, false, false, false]);
    expect(resultOf('login', { retcode: '0', msg: '', result: { workno: '6001', mediatype: 'TTT' } })).toEqual({ workno: '6001', mediatype: 'TTT' });
    expect(() => resultOf('login', { retcode: '100-002', msg: 'signed in elsewhere' })).toThrow('huawei-aicc login failed: retcode 100-002 (signed in elsewhere)');
  });
});
