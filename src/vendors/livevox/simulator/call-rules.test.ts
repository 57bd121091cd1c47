import { afterEach, describe, expect, it } from 'vitest';
import { raw, readyAgent, SERVICE, startSim } from '../test-fixtures.js';
import { LvCode } from '../wire.js';
import type { LiveVoxSimulator } from './index.js';

let sim: LiveVoxSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const A = '/callControl/agent';
const tc = (s: LiveVoxSimulator, session: string, body: Record<string, unknown>) => raw(s, 'PUT', `${A}/call/termCode`, { session, body });
const base = { callTransactionId: 't1', callSessionId: 's1', termCodeId: '101', phoneDialed: '2134634007', moveAgentToNotReady: 'false' };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LiveVox simulator: term codes', () => {
  it('lists the term codes and phonebooks of a service', async () => {
    sim = await startSim();
    const s = await readyAgent(sim);
    const list = await raw(sim, 'GET', `${A}/termCode?serviceId=${SERVICE}`, { session: s });
    expect(list.body).toEqual({
      termCodeCategories: [
        { name: 'Virtual Agent', termCodes: [{ id: '101', name: 'Completed', lvResult: 'AGENT - COMPLETED', actionType: 'NONE' }, { id: '103', name: 'Caller Hung Up', lvResult: 'Caller Hung Up', actionType: 'NONE' }] },
        { name: 'Transfers', termCodes: [{ id: '102', name: 'Transferred', lvResult: 'AGENT - TRANSFER', actionType: 'NONE' }] },
      ],
    });
    expect((await raw(sim, 'GET', `${A}/termCode`, { session: s })).message).toBe("missing query parameter 'serviceId'");
    const books = await raw(sim, 'GET', `${A}/phonebook/ext?serviceId=${SERVICE}`, { session: s });
    expect(books.body?.['phoneBooks']).toContainEqual({ phoneBookId: '2238', name: 'Supervisors', contacts: [{ phoneBookContactId: '24600', contactName: 'Floor Lead', phoneNumber: '3125550120' }] });
  });

  it('takes one term code per call: a repeat of the same code and a different code are 409s that say so', async () => {
    sim = await startSim();
    const s = await readyAgent(sim);
    sim.startCall('va1', { transactionId: 't1', sessionId: 's1' });
    sim.endCall('t1', 'customer');
    expect(await raw(sim, 'POST', `${A}/status/ready`, { session: s })).toMatchObject({ status: 409, code: LvCode.termCodeRequired });
    // The guide's body has five fields, all required: a term code without phoneDialed is refused.
    const { phoneDialed: _omitted, ...noPhone } = base;
    expect(await tc(sim, s, noPhone)).toMatchObject({ status: 400, message: "missing field 'phoneDialed'" });
    expect((await tc(sim, s, base)).status).toBe(204);
    const again = await tc(sim, s, base);
    expect(again).toMatchObject({ status: 409, code: LvCode.termCodeAlreadySet });
    expect(again.message).toMatch(/^term code already set/);
    const other = await tc(sim, s, { ...base, termCodeId: 102 });
    expect(other).toMatchObject({ status: 409, code: LvCode.termCodeConflict });
    expect(other.message).toMatch(/already has term code 101 \(Completed\); a call takes one term code, 102 refused/);
    expect(sim.state.call('t1')).toMatchObject({ termCodes: [{ termCodeId: '101', moveAgentToNotReady: false, phoneDialed: '2134634007' }], termCodeRefusals: 2 });
    expect(sim.state.agent('va1')?.state).toBe('WRAPUP');
    expect((await raw(sim, 'POST', `${A}/status/ready`, { session: s })).status).toBe(204);
  });

  it('validates the request: required fields, the call, its session id and the service of the code', async () => {
    sim = await startSim();
    const s = await readyAgent(sim);
    sim.startCall('va1', { transactionId: 't1', sessionId: 's1' });
    const { moveAgentToNotReady: _m, ...noMove } = base;
    expect(await tc(sim, s, noMove)).toMatchObject({ status: 400, message: "missing field 'moveAgentToNotReady'" });
    expect((await tc(sim, s, { ...base, moveAgentToNotReady: 'no' })).message).toMatch(/invalid field 'moveAgentToNotReady'/);
    expect((await tc(sim, s, { ...base, callTransactionId: undefined })).message).toBe("missing field 'callTransactionId'");
    expect(await tc(sim, s, { ...base, callTransactionId: 't9' })).toMatchObject({ status: 409, code: LvCode.notAgentCall, message: "call t9 is not the agent's current or last call" });
    expect((await tc(sim, s, { ...base, callSessionId: 'other' })).message).toBe('callSessionId does not match call t1');
    expect((await tc(sim, s, { ...base, termCodeId: '201' })).message).toBe('termCodeId 201 is not a term code of service 1001');
    expect(sim.state.call('t1')?.termCodes).toEqual([]);
  });

  it('accepts a term code during the call; an older call is no longer the agent\'s', async () => {
    sim = await startSim();
    const s = await readyAgent(sim);
    sim.startCall('va1', { transactionId: 't1', sessionId: 's1' });
    expect((await tc(sim, s, { ...base, moveAgentToNotReady: true })).status).toBe(204);
    expect(sim.state.agent('va1')?.state).toBe('INCALL');
    sim.endCall('t1', 'customer');
    expect(sim.state.agent('va1')?.state).toBe('NOTREADY');
    await raw(sim, 'POST', `${A}/status/ready`, { session: s });
    sim.startCall('va1', { transactionId: 't2', sessionId: 's2' });
    sim.endCall('t2', 'agent');
    expect((await tc(sim, s, { ...base, termCodeId: '103' })).code).toBe(LvCode.notAgentCall);
    expect((await tc(sim, s, { ...base, callTransactionId: 't2', callSessionId: 's2', moveAgentToNotReady: true })).status).toBe(204);
    expect(sim.state.agent('va1')?.state).toBe('NOTREADY');
  });
});

describe('LiveVox simulator: phonebook conference', () => {
  it('needs a call, then TRANSFERRING until the human joins, then leave -> WRAPUP', async () => {
    sim = await startSim({ conferenceJoinMs: 80 });
    const s = await readyAgent(sim);
    const conf = (body: unknown, q = '?lineNumber=ACD') => raw(sim as LiveVoxSimulator, 'POST', `${A}/conference/phonebook${q}`, { session: s, body });
    const events: string[] = [];
    sim.on('human-joined', (c) => events.push(`joined:${c.transactionId}`));
    sim.on('conference-left', (c) => events.push(`left:${c.transactionId}:${c.status}`));
    expect(await conf({ phoneBookId: '2237', phoneBookContactId: '24590' })).toMatchObject({ status: 409, code: LvCode.noCall });
    sim.startCall('va1', { transactionId: 't1', sessionId: 's1' });
    expect((await conf({ phoneBookId: '2237', phoneBookContactId: '24590' }, '?lineNumber=EXT99')).status).toBe(400);
    expect((await conf({ phoneBookId: '2237' })).message).toBe("missing field 'phoneBookContactId'");
    expect(await conf({ phoneBookId: '9', phoneBookContactId: '24590' })).toMatchObject({ status: 404, message: 'phonebook 9 not found in service 1001' });
    expect(await conf({ phoneBookId: 2237, phoneBookContactId: 24600 })).toMatchObject({ status: 404, message: 'contact 24600 not found in phonebook 2237' });
    expect((await conf({ phoneBookId: 2237, phoneBookContactId: 24590 })).status).toBe(204);
    const line = async () => ((await raw(sim as LiveVoxSimulator, 'POST', `${A}/status`, { session: s, body: { stateChangedAfter: 0 } })).body as { agentStatus: { lines: Record<string, unknown>[] } }).agentStatus.lines[0];
    expect(await line()).toMatchObject({ state: 'TRANSFERRING', conference: { phoneBookId: '2237', phoneBookContactId: '24590', humanJoined: false } });
    expect(await raw(sim, 'POST', `${A}/conference/leave`, { session: s })).toMatchObject({ status: 409, code: LvCode.humanNotJoined });
    await wait(150);
    expect(events).toEqual(['joined:t1']);
    expect(await line()).toMatchObject({ state: 'INCALL', conference: { humanJoined: true } });
    expect((await raw(sim, 'POST', `${A}/conference/leave`, { session: s })).status).toBe(204);
    expect(events).toEqual(['joined:t1', 'left:t1:with-human']);
    const after = await line();
    expect(after).toMatchObject({ state: 'WRAPUP', call: { callTransactionId: 't1' } });
    expect(after?.['conference']).toBeUndefined();
    expect((await tc(sim, s, { ...base, termCodeId: '102' })).status).toBe(204);
    expect((await raw(sim, 'POST', `${A}/status/ready`, { session: s })).status).toBe(204);
    sim.endCall('t1', 'customer');
    expect(sim.state.call('t1')).toMatchObject({ status: 'ended', endedBy: 'customer', termCodes: [{ termCodeName: 'Transferred' }] });
    expect(sim.state.agent('va1')?.state).toBe('READY');
  });

  it('drives the human join from the injected clock too', async () => {
    let now = 1_000_000;
    sim = await startSim({ clock: () => now, conferenceJoinMs: 5_000 });
    const s = await readyAgent(sim);
    sim.startCall('va1', { transactionId: 't1', sessionId: 's1' });
    await raw(sim, 'POST', `${A}/conference/phonebook`, { session: s, body: { phoneBookId: '2238', phoneBookContactId: '24600' } });
    expect(sim.state.agent('va1')?.state).toBe('TRANSFERRING');
    now += 5_000;
    expect(sim.state.agent('va1')?.state).toBe('INCALL');
    expect(sim.state.call('t1')?.conference?.humanJoinedAt).toBe(now);
  });
});
