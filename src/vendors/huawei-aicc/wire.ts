/**
 * The CC-Gateway's wire rules (Huawei Cloud CEC API reference, "Agent Integration--CC-Gateway"):
 * every answer is `{message, retcode, result}` with retcode "0" for success; the event poll
 * (`GET agentevent/{agentid}`, held ~10 s when there is none) answers `{message, retcode, event}`
 * with `event: {eventType, workNo, content}`. Sign-in answers carry the session in a `Set-GUID`
 * header that every later request sends back as `Guid`; a sign-in refused with 100-002 (signed in
 * elsewhere) is repaired with forcelogin. Pure functions; the client does the I/O.
 */

/** A retcode other than "0", naming the operation and the platform's code and message. */
export class CcGatewayError extends Error {
  override readonly name = 'CcGatewayError';
  constructor(
    readonly op: string,
    readonly retcode: string,
    readonly platformMessage: string,
  ) {
    super(`huawei-aicc ${op} failed: retcode ${retcode}${platformMessage ? ` (${platformMessage})` : ''}`);
  }
}

/** retcode of a sign-in refused because the account is signed in elsewhere (forcelogin repairs it). */
export const RETCODE_SIGNED_IN_ELSEWHERE = '100-002';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `result` of a successful answer; throws CcGatewayError for a refusal, or for a body that is not the envelope. */
export function resultOf(op: string, body: unknown): unknown {
  if (!isObject(body) || typeof body.retcode !== 'string') throw new CcGatewayError(op, 'malformed', 'the answer is not {message, retcode, result}');
  if (body.retcode !== '0') throw new CcGatewayError(op, body.retcode, messageOf(body));
  return body.result;
}

/** The answer's text: `message`, or `msg` as the development guide's sign-in example spells it. */
function messageOf(body: Record<string, unknown>): string {
  const m = body.message ?? body.msg;
  return typeof m === 'string' ? m : '';
}

/** Agent ids the interfaces accept ({agentid} in every URI). */
export function validAgentId(id: string): boolean {
  return /^[1-9][0-9]{2,5}$/.test(id) && Number(id) >= 101 && Number(id) <= 999_999;
}

export interface SignIn {
  password: string;
  /** The agent's softphone number, the one its SIP phone registers. */
  phonenum: string;
  /** Answer offered calls automatically (the platform's default: true). */
  autoanswer?: boolean;
  /** Back to idle by itself after a call (default true); false: the agent stays in wrap-up until told. */
  autoenteridle?: boolean;
  /** State after sign-in: 3 busy, 4 idle (default), 5 wrap-up. */
  status?: 3 | 4 | 5;
}

/** The body of `PUT onlineagent/{agentid}` (sign in) and of forcelogin; throws naming a field over its limit. */
export function signInBody(s: SignIn): Record<string, unknown> {
  if (s.password.length === 0 || s.password.length > 32) throw new Error('huawei-aicc sign-in: password must be 1-32 characters');
  if (s.phonenum.length === 0 || s.phonenum.length > 24) throw new Error('huawei-aicc sign-in: phonenum must be 1-24 characters');
  return { password: s.password, phonenum: s.phonenum, ...(s.autoanswer !== undefined ? { autoanswer: s.autoanswer } : {}), ...(s.autoenteridle !== undefined ? { autoenteridle: s.autoenteridle } : {}), ...(s.status !== undefined ? { status: s.status } : {}) };
}

/** The Guid of a sign-in answer's `Set-GUID` header (`JSESSIONID=<guid>; ...` or the bare value). */
export function guidOf(setGuid: string | undefined): string | undefined {
  if (!setGuid) return undefined;
  const first = setGuid.split(';')[0]!.trim();
  const v = first.includes('=') ? first.slice(first.indexOf('=') + 1).trim() : first;
  return v || undefined;
}

export interface AgentEvent {
  eventType: string;
  workNo: string;
  content: Record<string, unknown>;
}

export type PollAnswer = { kind: 'none' } | { kind: 'event'; event: AgentEvent } | { kind: 'invalid'; reason: string };

/** One poll answer for `agentId`: no event (the 10 s passed), one event, or why it cannot be used. */
export function parsePoll(agentId: string, body: unknown): PollAnswer {
  if (!isObject(body) || typeof body.retcode !== 'string') return { kind: 'invalid', reason: 'the poll answer is not {message, retcode, event}' };
  if (body.retcode !== '0') return { kind: 'invalid', reason: `poll refused: retcode ${body.retcode}${messageOf(body) ? ` (${messageOf(body)})` : ''}` };
  const ev = body.event;
  if (ev === undefined || ev === null || (isObject(ev) && Object.keys(ev).length === 0)) return { kind: 'none' };
  if (!isObject(ev) || typeof ev.eventType !== 'string' || ev.eventType === '') return { kind: 'invalid', reason: 'event without a string eventType' };
  const workNo = typeof ev.workNo === 'number' ? String(ev.workNo) : ev.workNo;
  if (typeof workNo !== 'string' || workNo === '') return { kind: 'invalid', reason: `${ev.eventType} without workNo` };
  if (workNo !== agentId) return { kind: 'invalid', reason: `${ev.eventType} for agent ${workNo} on agent ${agentId}'s poll` };
  // Some events carry the bare call id as their content (AgentEvent_Hold in the event reference).
  const content = ev.content === undefined || ev.content === null ? {} : typeof ev.content === 'string' ? { callid: ev.content } : ev.content;
  if (!isObject(content)) return { kind: 'invalid', reason: `${ev.eventType}: content is not an object` };
  return { kind: 'event', event: { eventType: ev.eventType, workNo, content } };
}
