import { afterEach, describe, expect, it } from 'vitest';
import { VendorError, type VendorAgent } from '../types.js';
import { LiveVoxAdapter, type LiveVoxAdapterOptions } from './adapter.js';
import { LiveVoxClient } from './client.js';
import type { LiveVoxSimulator, LiveVoxSimulatorOptions } from './simulator/index.js';
import { CLIENT, SERVICE, startSim, TOKEN } from './test-fixtures.js';

let sim: LiveVoxSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const VA1: VendorAgent = { id: 'agent-1', user: 'va1', password: 'pw1', serviceId: SERVICE, number: '+18990000001' };
const STATUS = 'POST /callControl/agent/status';

async function setup(simOver: Partial<LiveVoxSimulatorOptions> = {}, over: Partial<LiveVoxAdapterOptions> = {}) {
  const s = await startSim(simOver);
  sim = s;
  const client = new LiveVoxClient({ baseUrl: s.url, accessToken: TOKEN, clientName: CLIENT, backoffMs: 5 });
  const adapter = new LiveVoxAdapter({ client, pollMs: 20, ...over });
  await adapter.login(VA1);
  return { s, adapter };
}

const call = { transactionId: '108821676850', sessionId: 'U5EF8FT5DFC07F9@10.101.21.216', account: 'A1', phoneNumber: '2134634007', firstName: 'Ann', lastName: 'Lee' };

describe('LiveVoxAdapter', () => {
  it('runs the virtual-agent flow: login, join, ready, call, ids, screen pop, term code, ready', async () => {
    const { s, adapter } = await setup();
    expect(s.state.agent('va1')).toMatchObject({ state: 'LOGON', serviceId: SERVICE, phoneNumber: '8990000001' });
    await adapter.login(VA1); // idempotent: same session, already joined
    expect(s.state.activeSessions()).toBe(1);
    await adapter.ready('agent-1');
    await adapter.ready('agent-1'); // already READY counts as done
    expect(await adapter.status('agent-1')).toEqual({ state: 'ready' });

    s.startCall('+18990000001', call);
    const st = await adapter.status('agent-1');
    expect(st).toEqual({ state: 'in-call', call: { transactionId: call.transactionId, sessionId: call.sessionId, serviceId: SERVICE, account: 'A1', phoneDialed: '2134634007', firstName: 'Ann', lastName: 'Lee' } });
    const before = s.state.requestCounts()[STATUS] ?? 0;
    expect(await adapter.callIds('agent-1', { transactionId: 'T-hint', sessionId: 'S-hint', account: undefined })).toEqual({ transactionId: 'T-hint', sessionId: 'S-hint', serviceId: SERVICE });
    expect(s.state.requestCounts()[STATUS] ?? 0).toBe(before);
    const ids = await adapter.callIds('agent-1', { transactionId: call.transactionId });
    expect(ids).toMatchObject({ transactionId: call.transactionId, sessionId: call.sessionId, account: 'A1', phoneDialed: '2134634007' });
    expect(await adapter.screenPop('agent-1')).toMatchObject({ accountNumber: 'A1', phoneNumber: '2134634007', firstName: 'Ann', lastName: 'Lee' });

    s.endCall(call.transactionId, 'agent');
    expect((await adapter.status('agent-1')).state).toBe('wrap-up');
    await adapter.setTermCode('agent-1', ids, 'completed', 'paid in full');
    await adapter.updateContact('agent-1', 'A1', { callOutcome: 'paid', lvresult: 'AGENT - COMPLETED' });
    await adapter.ready('agent-1');
    expect(s.state.agent('va1')?.state).toBe('READY');
    expect(s.state.call(call.transactionId)?.termCodes).toEqual([
      expect.objectContaining({ termCodeId: '101', termCodeName: 'Completed', moveAgentToNotReady: false, phoneDialed: '2134634007', notes: 'paid in full' }),
    ]);
    expect(s.state.contact('A1')?.fields).toMatchObject({ callOutcome: 'paid' });
  });

  it('transfers to a human: conference, wait for the join, leave; then term code and ready', async () => {
    const { s, adapter } = await setup({ conferenceJoinMs: 100 });
    await adapter.ready('agent-1');
    s.startCall('va1', call);
    const events: string[] = [];
    s.on('human-joined', () => events.push('human-joined'));
    s.on('conference-left', (c) => events.push(`conference-left:${c.transactionId}`));
    const ids = await adapter.callIds('agent-1', {});
    await adapter.transfer('agent-1', ids, { phonebook: 'humans', contact: '24590' });
    expect(events).toEqual(['human-joined', `conference-left:${call.transactionId}`]);
    expect(s.state.call(call.transactionId)).toMatchObject({ status: 'with-human', conference: { phoneBookId: '2237', phoneBookContactId: '24590' } });
    expect((await adapter.status('agent-1')).state).toBe('wrap-up');
    await adapter.setTermCode('agent-1', {}, '102');
    await adapter.ready('agent-1');
    expect(s.state.call(call.transactionId)?.termCodes.map((t) => t.termCodeName)).toEqual(['Transferred']);
  });

  it('fails a transfer clearly: unknown target, human never joins', async () => {
    const { s, adapter } = await setup({ conferenceJoinMs: Infinity }, { transferTimeoutMs: 200 });
    await adapter.ready('agent-1');
    s.startCall('va1', call);
    const ids = await adapter.callIds('agent-1', {});
    await expect(adapter.transfer('agent-1', ids, { phonebook: 'Nope' })).rejects.toThrow("livevox transfer: no phonebook of service 1001 'Nope'; have: Humans (2237), Supervisors (2238)");
    await expect(adapter.transfer('agent-1', ids, { phonebook: 'Humans' })).rejects.toThrow(/name the contact in phonebook Humans; there are 2/);
    const e = await adapter.transfer('agent-1', ids, { phonebook: 'Supervisors' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VendorError);
    expect((e as VendorError).message).toBe('livevox transfer: the human did not join within 200 ms (agent agent-1)');
    expect(s.state.agent('va1')?.state).toBe('TRANSFERRING');
  });

  it('sets a term code idempotently: a repeat is done, a different code is refused', async () => {
    const { s, adapter } = await setup();
    await adapter.ready('agent-1');
    s.startCall('va1', call);
    const ids = await adapter.callIds('agent-1', {});
    s.endCall(call.transactionId, 'customer');
    await adapter.setTermCode('agent-1', ids, 'Caller Hung Up');
    await adapter.setTermCode('agent-1', ids, 'Caller Hung Up');
    await adapter.setTermCode('agent-1', ids, '103');
    const e = await adapter.setTermCode('agent-1', ids, 'Completed').catch((x: unknown) => x);
    expect(e).toMatchObject({ retryable: false, code: expect.any(Number) });
    expect((e as Error).message).toMatch(/409 call 108821676850 already has term code 103/);
    await expect(adapter.setTermCode('agent-1', ids, 'Nonexistent')).rejects.toThrow(/no term code 'Nonexistent' in service 1001; have: Completed \(101\)/);
    expect(s.state.call(call.transactionId)).toMatchObject({ termCodes: [expect.objectContaining({ termCodeId: '103' })], termCodeRefusals: 3 });
    expect(s.state.requestCounts()['GET /callControl/agent/termCode']).toBe(2); // cached; one refresh for the unknown name
  });

  it('recovers an agent whose session expired: re-login and re-join on Ready', async () => {
    const { s, adapter } = await setup();
    s.expireSessions();
    expect((await adapter.status('agent-1')).state).toBe('logged-out');
    await adapter.ready('agent-1');
    expect(s.state.agent('va1')).toMatchObject({ state: 'READY', phoneNumber: '8990000001' });
  });

  it('goes NotReady (repeats included), logs out, and creates a missing contact', async () => {
    const { s, adapter } = await setup();
    await adapter.notReady('agent-1', 'Break');
    await adapter.notReady('agent-1');
    expect(s.state.agent('va1')).toMatchObject({ state: 'NOTREADY', notReadyReason: 'Break' });
    await adapter.updateContact('agent-1', 'NEW-7', { ani: '3125550100', callOutcome: 'new caller' });
    expect(s.state.contact('NEW-7')?.fields).toEqual({ ani: '3125550100', callOutcome: 'new caller' });
    await adapter.logout('agent-1');
    await adapter.logout('agent-1');
    expect(s.state.agent('va1')?.state).toBe('LOGOFF');
    expect(await adapter.status('agent-1')).toEqual({ state: 'logged-out' });
    await expect(adapter.ready('agent-9')).rejects.toThrow('livevox ready: agent agent-9 is unknown (log it in first)');
  });

  it('says when there is no call to take ids from (retryable)', async () => {
    const { adapter } = await setup();
    const e = await adapter.callIds('agent-1', {}).catch((x: unknown) => x);
    expect(e).toMatchObject({ retryable: true, message: "livevox callIds: no call on agent agent-1's ACD line yet (state LOGON)" });
  });
});
