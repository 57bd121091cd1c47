/**
 * Call rules: a call starts only on a READY agent; hold/unhold, hang-up, the phonebook
 * conference (TRANSFERRING until the human joins, then leave), and term codes (one per call,
 * only for the agent's current or last call, only codes of the call's service).
 */
import { LvCode, type TermCodeBody } from '../wire.js';
import { normalize899, SimError, type AgentRecord, type CallInput, type CallRecord, type TermCodeRecord } from './records.js';
import type { SimState } from './state.js';

const copy = (c: CallRecord): CallRecord => structuredClone(c);

function findAgent(st: SimState, target: string): AgentRecord {
  const byUser = st.agentMap.get(target);
  if (byUser) return byUser;
  const number = normalize899(target);
  for (const a of st.agentMap.values()) if (number && a.phoneNumber === number) return a;
  throw new SimError(404, LvCode.notFound, `no agent '${target}' (a user name, or the 899 number of a joined agent)`);
}

function currentCall(st: SimState, agent: AgentRecord, what: string): CallRecord {
  const call = agent.currentCall ? st.callMap.get(agent.currentCall) : undefined;
  if (!call) throw new SimError(409, LvCode.noCall, `${what}: no call on the agent's line (agent is ${agent.state})`);
  return call;
}

/** Where the agent goes when its part of a call is over: NOTREADY if the term code asked for it. */
function releaseAgent(st: SimState, agent: AgentRecord, call: CallRecord): void {
  if (agent.currentCall !== call.transactionId) return;
  delete agent.currentCall;
  agent.lastCall = call.transactionId;
  st.setState(agent, call.termCodes[0]?.moveAgentToNotReady ? 'NOTREADY' : 'WRAPUP');
}

/** The contact center routes a customer to a READY agent (by user name or 899 number). */
export function startCall(st: SimState, target: string, input: CallInput): CallRecord {
  st.tick();
  const agent = findAgent(st, target);
  if (agent.state !== 'READY') throw new SimError(409, LvCode.wrongState, `agent ${agent.user} is ${agent.state}, not READY: no call can be routed to it`);
  const n = st.nextSeq();
  const transactionId = input.transactionId ?? String(108_800_000_000 + n);
  if (st.callMap.has(transactionId)) throw new SimError(409, LvCode.duplicateCall, `call ${transactionId} already exists`);
  const serviceId = input.serviceId ?? (agent.serviceId as string);
  st.service(serviceId);
  const now = st.now();
  const call: CallRecord = {
    transactionId,
    sessionId: input.sessionId ?? `U${(0x5ef8f000 + n).toString(16).toUpperCase()}@127.0.0.1`,
    serviceId,
    agentUser: agent.user,
    agentNumber: agent.phoneNumber as string,
    account: input.account ?? '',
    phoneNumber: input.phoneNumber ?? '',
    firstName: input.firstName ?? '',
    lastName: input.lastName ?? '',
    extra: { ...input.extra },
    startedAt: now,
    status: 'active',
    held: false,
    termCodes: [],
    termCodeRefusals: 0,
  };
  st.addCall(call);
  if (call.account && !st.contactMap.has(call.account)) {
    const fields = { phoneNumber: call.phoneNumber, firstName: call.firstName, lastName: call.lastName };
    st.contactMap.set(call.account, { account: call.account, fields, createdAt: now, updatedAt: now, updates: 0 });
  }
  agent.currentCall = transactionId;
  st.setState(agent, 'INCALL');
  st.events.emit('call-started', copy(call));
  return copy(call);
}

/** The call is over (customer hung up, or the agent's leg did). Idempotent. */
export function endCall(st: SimState, transactionId: string, by: 'customer' | 'agent'): CallRecord {
  st.tick();
  const call = st.callMap.get(transactionId);
  if (!call) throw new SimError(404, LvCode.notFound, `call ${transactionId} not found`);
  if (call.status === 'ended') return copy(call);
  call.status = 'ended';
  call.endedAt = st.now();
  call.endedBy = by;
  call.held = false;
  const agent = st.agentMap.get(call.agentUser);
  if (agent) releaseAgent(st, agent, call);
  st.events.emit('call-ended', copy(call), by);
  return copy(call);
}

/** POST customer/call/end: the agent hangs up the customer. */
export function hangUp(st: SimState, agent: AgentRecord): void {
  endCall(st, currentCall(st, agent, 'call end').transactionId, 'agent');
}

export function hold(st: SimState, agent: AgentRecord, on: boolean): void {
  const call = currentCall(st, agent, on ? 'hold' : 'unhold');
  const from = on ? 'INCALL' : 'HOLD';
  if (agent.state !== from) throw new SimError(409, LvCode.wrongState, `${on ? 'hold' : 'unhold'} needs the agent ${from}, it is ${agent.state}`);
  if (on && call.conference) throw new SimError(409, LvCode.wrongState, 'hold is not allowed during a conference');
  call.held = on;
  st.setState(agent, on ? 'HOLD' : 'INCALL');
}

export function conference(st: SimState, agent: AgentRecord, lineNumber: string, phoneBookId: string, contactId: string): void {
  if (lineNumber !== 'ACD') throw new SimError(409, LvCode.noCall, `no call on line ${lineNumber} (virtual agents use the ACD line)`);
  const call = currentCall(st, agent, 'conference');
  if (agent.state !== 'INCALL') throw new SimError(409, LvCode.wrongState, `conference needs the agent INCALL, it is ${agent.state}`);
  if (call.conference) throw new SimError(409, LvCode.wrongState, `call ${call.transactionId} already has a conference`);
  const book = st.service(call.serviceId).phonebooks.find((p) => p.id === phoneBookId);
  if (!book) throw new SimError(404, LvCode.notFound, `phonebook ${phoneBookId} not found in service ${call.serviceId}`);
  if (!book.contacts.some((c) => c.id === contactId)) throw new SimError(404, LvCode.notFound, `contact ${contactId} not found in phonebook ${phoneBookId}`);
  const now = st.now();
  call.conference = { phoneBookId, phoneBookContactId: contactId, startedAt: now, joinAt: now + st.opts.conferenceJoinMs };
  st.pendingJoins.add(call.transactionId);
  st.setState(agent, 'TRANSFERRING');
  st.tick();
}

export function leaveConference(st: SimState, agent: AgentRecord): void {
  const call = currentCall(st, agent, 'conference leave');
  const conf = call.conference;
  if (!conf) throw new SimError(409, LvCode.wrongState, `call ${call.transactionId} has no conference to leave`);
  if (conf.humanJoinedAt === undefined) throw new SimError(409, LvCode.humanNotJoined, 'the human has not joined the conference yet (agent is TRANSFERRING)');
  conf.agentLeftAt = st.now();
  call.status = 'with-human';
  releaseAgent(st, agent, call);
  st.events.emit('conference-left', copy(call));
}

export type TermCodeArgs = TermCodeBody;

export function setTermCode(st: SimState, agent: AgentRecord, a: TermCodeArgs): void {
  const tid = a.callTransactionId;
  const call = tid === agent.currentCall || tid === agent.lastCall ? st.callMap.get(tid) : undefined;
  if (!call) throw new SimError(409, LvCode.notAgentCall, `call ${tid} is not the agent's current or last call`);
  if (a.callSessionId !== call.sessionId) throw new SimError(400, LvCode.invalidField, `callSessionId does not match call ${tid}`);
  if (a.serviceId !== undefined && a.serviceId !== call.serviceId) throw new SimError(400, LvCode.invalidField, `serviceId ${a.serviceId} is not the service of call ${tid}`);
  const code = st.service(call.serviceId).termCodes.find((t) => t.id === a.termCodeId);
  if (!code) throw new SimError(400, LvCode.invalidField, `termCodeId ${a.termCodeId} is not a term code of service ${call.serviceId}`);
  const set = call.termCodes[0];
  if (set) {
    call.termCodeRefusals++;
    if (set.termCodeId === code.id) throw new SimError(409, LvCode.termCodeAlreadySet, `term code already set: call ${tid} has term code ${set.termCodeId} (${set.termCodeName})`);
    throw new SimError(409, LvCode.termCodeConflict, `call ${tid} already has term code ${set.termCodeId} (${set.termCodeName}); a call takes one term code, ${code.id} refused`);
  }
  const record: TermCodeRecord = { termCodeId: code.id, termCodeName: code.name, lvResult: code.lvResult ?? code.name, at: st.now(), moveAgentToNotReady: a.moveAgentToNotReady };
  record.phoneDialed = a.phoneDialed;
  if (a.notes !== undefined) record.notes = a.notes;
  call.termCodes.push(record);
  if (agent.currentCall !== tid && agent.state === 'WRAPUP' && a.moveAgentToNotReady) st.setState(agent, 'NOTREADY');
  st.events.emit('term-code', copy(call), { ...record });
}
