import { afterEach, describe, expect, it } from 'vitest';
import { loginRaw, raw, readyAgent, SERVICE, startSim } from '../test-fixtures.js';
import { LvCode } from '../wire.js';
import { SimError, type LiveVoxSimulator } from './index.js';

let sim: LiveVoxSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const A = '/callControl/agent';
const post = (s: LiveVoxSimulator, path: string, session: string, body?: unknown) => raw(s, 'POST', path, { session, ...(body !== undefined ? { body } : {}) });

describe('LiveVox simulator: service join and agent state order', () => {
  it('refuses Ready before a service join', async () => {
    sim = await startSim();
    const s = await loginRaw(sim);
    expect(await post(sim, `${A}/status/ready`, s)).toMatchObject({ status: 409, code: LvCode.notJoined, message: 'join a service before Ready (agent is LOGOFF)' });
    expect(await post(sim, `${A}/status/notReady`, s)).toMatchObject({ status: 409, code: LvCode.notJoined });
  });

  it('validates the join: query parameters, service, 899 number, one number per agent', async () => {
    sim = await startSim();
    const s = await loginRaw(sim);
    expect(await post(sim, `${A}/service/join?phoneNumber=8990000001`, s)).toMatchObject({ status: 400, message: "missing query parameter 'serviceId'" });
    expect(await post(sim, `${A}/service/join?serviceId=${SERVICE}`, s)).toMatchObject({ status: 400, message: "missing query parameter 'phoneNumber'" });
    expect(await post(sim, `${A}/service/join?serviceId=999&phoneNumber=8990000001`, s)).toMatchObject({ status: 404, message: "service '999' not found" });
    expect((await post(sim, `${A}/service/join?serviceId=${SERVICE}&phoneNumber=3125550100`, s)).message).toMatch(/not an 899 number/);
    expect((await post(sim, `${A}/service/join?serviceId=${SERVICE}&phoneNumber=%2B18990000001`, s)).status).toBe(204);
    expect(sim.state.agent('va1')).toMatchObject({ state: 'LOGON', phoneNumber: '8990000001', serviceId: SERVICE });
    expect(await post(sim, `${A}/service/join?serviceId=${SERVICE}&phoneNumber=8990000001`, s)).toMatchObject({ status: 409, code: LvCode.alreadyInState });
    const s2 = await loginRaw(sim, 'va2', 'pw2');
    expect(await post(sim, `${A}/service/join?serviceId=${SERVICE}&phoneNumber=18990000001`, s2)).toMatchObject({ status: 409, code: LvCode.numberInUse });
  });

  it('enforces the Ready / NotReady order with the current state in the message', async () => {
    sim = await startSim();
    const s = await readyAgent(sim);
    expect(await post(sim, `${A}/status/ready`, s)).toMatchObject({ status: 409, code: LvCode.alreadyInState, message: 'agent is already READY' });
    expect((await raw(sim, 'POST', `${A}/status/notReady?reasonCode=Lunch`, { session: s })).status).toBe(204);
    expect(sim.state.agent('va1')).toMatchObject({ state: 'NOTREADY', notReadyReason: 'Lunch' });
    expect(await post(sim, `${A}/status/notReady`, s)).toMatchObject({ status: 409, message: 'agent is already NOTREADY' });
    expect((await post(sim, `${A}/status/ready`, s)).status).toBe(204);
    sim.startCall('va1', { transactionId: 't1', sessionId: 's1' });
    expect(await post(sim, `${A}/status/ready`, s)).toMatchObject({ status: 409, code: LvCode.wrongState, message: 'Ready is not allowed while the agent is INCALL' });
    expect(await post(sim, `${A}/status/notReady`, s)).toMatchObject({ status: 409, message: 'NotReady is not allowed while the agent is INCALL' });
    expect(await post(sim, `${A}/service/leave`, s)).toMatchObject({ status: 409, message: 'leaving the service is not allowed while the agent is INCALL' });
  });

  it('starts a call only on a READY agent, by user or 899 number', async () => {
    sim = await startSim();
    const s = await loginRaw(sim);
    expect(() => sim?.startCall('va1', {})).toThrow(SimError);
    expect(() => sim?.startCall('va1', {})).toThrow(/LOGOFF, not READY/);
    await post(sim, `${A}/service/join?serviceId=${SERVICE}&phoneNumber=8990000001`, s);
    expect(() => sim?.startCall('+18990000001', {})).toThrow(/LOGON, not READY/);
    await post(sim, `${A}/status/ready`, s);
    const call = sim.startCall('+18990000001', { account: 'A1', phoneNumber: '2134634007', firstName: 'Ann', lastName: 'Lee' });
    expect(call).toMatchObject({ agentUser: 'va1', serviceId: SERVICE, status: 'active', transactionId: expect.stringMatching(/^\d{12}$/) });
    expect(() => sim?.startCall('9990000000', {})).toThrow(/no agent/);
  });

  it('shows the call on the status line and in the screen pop', async () => {
    sim = await startSim();
    const s = await readyAgent(sim);
    expect(await raw(sim, 'GET', `${A}/screenpop`, { session: s })).toMatchObject({ status: 404, code: LvCode.noCall });
    expect((await post(sim, `${A}/status`, s, { stateChangedAfter: 'yesterday' })).message).toMatch(/stateChangedAfter/);
    const before = Date.now() - 1;
    sim.startCall('va1', { transactionId: '108821676850', sessionId: 'U5EF8FT5DFC07F9@10.101.21.216', account: 'A1', phoneNumber: '2134634007', firstName: 'Ann', lastName: 'Lee', extra: { balance: '12.50' } });
    const st = await post(sim, `${A}/status`, s, { stateChangedAfter: String(before) });
    expect(st.body).toEqual({
      agentStatus: {
        lines: [
          {
            lineNumber: 'ACD',
            state: 'INCALL',
            stateChangedTime: expect.any(Number),
            call: { callTransactionId: '108821676850', callSessionId: 'U5EF8FT5DFC07F9@10.101.21.216', serviceId: SERVICE, accountNumber: 'A1', phoneNumber: '2134634007', firstName: 'Ann', lastName: 'Lee' },
          },
        ],
      },
    });
    const pop = await raw(sim, 'GET', `${A}/screenpop`, { session: s });
    expect(pop.body?.['screenPopRow']).toEqual(expect.arrayContaining([{ key: 'accountNumber', value: 'A1' }, { key: 'balance', value: '12.50' }]));
  });

  it('puts a call on hold and back, and ends it from the agent side', async () => {
    sim = await startSim();
    const s = await readyAgent(sim);
    const ended: string[] = [];
    sim.on('call-ended', (c, by) => ended.push(`${c.transactionId}:${by}`));
    expect(await post(sim, `${A}/customer/call/hold`, s)).toMatchObject({ status: 409, code: LvCode.noCall });
    sim.startCall('va1', { transactionId: 't1', sessionId: 's1' });
    expect((await post(sim, `${A}/customer/call/hold`, s)).status).toBe(204);
    expect(sim.state.agent('va1')?.state).toBe('HOLD');
    expect((await post(sim, `${A}/customer/call/hold`, s)).message).toMatch(/needs the agent INCALL, it is HOLD/);
    expect((await post(sim, `${A}/customer/call/unhold`, s)).status).toBe(204);
    expect((await post(sim, `${A}/customer/call/end`, s)).status).toBe(204);
    expect(ended).toEqual(['t1:agent']);
    expect(sim.state.agent('va1')?.state).toBe('WRAPUP');
    expect(sim.endCall('t1', 'customer').endedBy).toBe('agent');
  });

  it('updates and creates contacts', async () => {
    sim = await startSim();
    const s = await readyAgent(sim);
    sim.startCall('va1', { account: 'A1', phoneNumber: '2134634007' });
    expect((await raw(sim, 'PUT', '/contact/contacts/A1', { session: s, body: { callOutcome: 'paid', Other1: 7 } })).status).toBe(204);
    expect(sim.state.contact('A1')).toMatchObject({ fields: { phoneNumber: '2134634007', callOutcome: 'paid', Other1: '7' }, updates: 1 });
    expect(await raw(sim, 'PUT', '/contact/contacts/B2', { session: s, body: { callOutcome: 'x' } })).toMatchObject({ status: 404 });
    expect((await raw(sim, 'PUT', '/contact/contacts/A1', { session: s, body: { nested: { a: 1 } } })).message).toMatch(/invalid field 'nested'/);
    expect((await raw(sim, 'POST', '/contact/contacts', { session: s, body: { account: 'B2', ani: '3125550100' } })).status).toBe(204);
    expect(await raw(sim, 'POST', '/contact/contacts', { session: s, body: { account: 'B2' } })).toMatchObject({ status: 409, code: LvCode.contactExists });
  });
});
