/**
 * Agent lifecycle rules: service join/leave, Ready/NotReady order, the status line, screen pop.
 *
 *   LOGOFF --join--> LOGON --ready--> READY --call--> INCALL <-> HOLD
 *                      |                ^               |  \--conference--> TRANSFERRING --human--> INCALL(+conference)
 *                      +--notReady--> NOTREADY          v                                             |
 *                                       ^------------ WRAPUP <-------------- conference/leave --------+
 *
 * Ready: from LOGON, NOTREADY, WRAPUP (once the last call has its term code). NotReady: from
 * READY, LOGON, WRAPUP. Anything else is refused with 409 naming the current state.
 */
import { LvCode, type AgentLine, type LineState, type ScreenPopRow } from '../wire.js';
import { normalize899, SimError, type AgentRecord, type CallRecord } from './records.js';
import type { SimState } from './state.js';

const ON_A_CALL: readonly LineState[] = ['INCALL', 'HOLD', 'TRANSFERRING'];

function wrongState(agent: AgentRecord, what: string): SimError {
  return new SimError(409, LvCode.wrongState, `${what} is not allowed while the agent is ${agent.state}`);
}

export function joinService(st: SimState, agent: AgentRecord, serviceId: string, phoneNumber: string): void {
  st.service(serviceId);
  const number = normalize899(phoneNumber);
  if (!number) throw new SimError(400, LvCode.invalidField, `phoneNumber '${phoneNumber}' is not an 899 number (899XXXXXXX, optionally with +1 or 1)`);
  if (agent.state !== 'LOGOFF') {
    if (agent.serviceId === serviceId && agent.phoneNumber === number) {
      throw new SimError(409, LvCode.alreadyInState, `agent already joined service ${serviceId} with ${number} (state ${agent.state})`);
    }
    throw new SimError(409, LvCode.wrongState, `agent is ${agent.state} in service ${agent.serviceId ?? '?'}; leave the service before joining another`);
  }
  for (const other of st.agentMap.values()) {
    if (other !== agent && other.phoneNumber === number) throw new SimError(409, LvCode.numberInUse, `phoneNumber ${number} is in use by another agent`);
  }
  agent.serviceId = serviceId;
  agent.phoneNumber = number;
  st.setState(agent, 'LOGON');
}

export function leaveService(st: SimState, agent: AgentRecord): void {
  if (agent.state === 'LOGOFF') throw new SimError(409, LvCode.notJoined, 'agent has not joined a service');
  if (ON_A_CALL.includes(agent.state)) throw wrongState(agent, 'leaving the service');
  delete agent.serviceId;
  delete agent.phoneNumber;
  delete agent.notReadyReason;
  st.setState(agent, 'LOGOFF');
}

export function ready(st: SimState, agent: AgentRecord): void {
  switch (agent.state) {
    case 'LOGOFF':
      throw new SimError(409, LvCode.notJoined, 'join a service before Ready (agent is LOGOFF)');
    case 'READY':
      throw new SimError(409, LvCode.alreadyInState, 'agent is already READY');
    case 'WRAPUP': {
      const last = agent.lastCall ? st.callMap.get(agent.lastCall) : undefined;
      if (st.opts.requireTermCodeBeforeReady && last && last.termCodes.length === 0) {
        throw new SimError(409, LvCode.termCodeRequired, `set the term code of call ${last.transactionId} before Ready (agent is WRAPUP)`);
      }
      break;
    }
    case 'LOGON':
    case 'NOTREADY':
      break;
    default:
      throw wrongState(agent, 'Ready');
  }
  delete agent.notReadyReason;
  st.setState(agent, 'READY');
}

export function notReady(st: SimState, agent: AgentRecord, reasonCode?: string): void {
  switch (agent.state) {
    case 'LOGOFF':
      throw new SimError(409, LvCode.notJoined, 'join a service before NotReady (agent is LOGOFF)');
    case 'NOTREADY':
      throw new SimError(409, LvCode.alreadyInState, 'agent is already NOTREADY');
    case 'READY':
    case 'LOGON':
    case 'WRAPUP':
      break;
    default:
      throw wrongState(agent, 'NotReady');
  }
  if (reasonCode !== undefined) agent.notReadyReason = reasonCode;
  st.setState(agent, 'NOTREADY');
}

/** The call the status line shows: the current one, or the last one while in wrap-up. */
export function lineCall(st: SimState, agent: AgentRecord): CallRecord | undefined {
  const id = agent.currentCall ?? (agent.state === 'WRAPUP' ? agent.lastCall : undefined);
  return id ? st.callMap.get(id) : undefined;
}

export function statusLines(st: SimState, agent: AgentRecord): AgentLine[] {
  const line: AgentLine = { lineNumber: 'ACD', state: agent.state, stateChangedTime: agent.stateChangedTime };
  const call = lineCall(st, agent);
  if (call) {
    line.call = {
      callTransactionId: call.transactionId,
      callSessionId: call.sessionId,
      serviceId: call.serviceId,
      accountNumber: call.account,
      phoneNumber: call.phoneNumber,
      firstName: call.firstName,
      lastName: call.lastName,
    };
    const conf = call.conference;
    if (conf && conf.agentLeftAt === undefined && agent.currentCall === call.transactionId) {
      line.conference = { phoneBookId: conf.phoneBookId, phoneBookContactId: conf.phoneBookContactId, humanJoined: conf.humanJoinedAt !== undefined };
    }
  }
  return [line];
}

export function screenPop(st: SimState, agent: AgentRecord): ScreenPopRow[] {
  const call = agent.currentCall ? st.callMap.get(agent.currentCall) : undefined;
  if (!call) throw new SimError(404, LvCode.noCall, `no call on the agent's line (agent is ${agent.state})`);
  const rows: ScreenPopRow[] = [
    { key: 'accountNumber', value: call.account },
    { key: 'phoneNumber', value: call.phoneNumber },
    { key: 'firstName', value: call.firstName },
    { key: 'lastName', value: call.lastName },
    { key: 'serviceId', value: call.serviceId },
  ];
  for (const [key, value] of Object.entries(call.extra)) rows.push({ key, value });
  return rows;
}
