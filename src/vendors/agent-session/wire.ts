/**
 * The agent session protocol on the wire (../shared/vendors/openmethods-session.md, the seed's
 * interaction-processor pages): one JSON object per WebSocket message. Requests
 * `{command, target, data}`; responses `{command, target, result: success, data}` or
 * `{..., result: failure, failure: {code, message, context}, original}`; events
 * `{messageType: objectEvent, target, name, data}`. `target` is `session[.group].channel`.
 */

export type ChannelState = 'INACTIVE' | 'UNAVAILABLE' | 'ACTIVE';
export const AGENT_STATUSES = ['ready', 'not_ready', 'after_call_work', 'busy', 'busy_ready', 'busy_not_ready', 'busy_after_call_work'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export interface WireRequest {
  command: string;
  target: string;
  data: Record<string, unknown>;
}

export interface WireFailure {
  code: string;
  message: string;
  context?: string;
}

export type WireResponse =
  | { command: string; target: string; result: 'success'; data: Record<string, unknown> }
  | { command: string; target: string; result: 'failure'; failure: WireFailure; original: unknown };

export interface WireEvent {
  messageType: 'objectEvent';
  target: string;
  name: string;
  data: Record<string, unknown>;
}

export type WireMessage = ({ kind: 'response' } & WireResponse) | ({ kind: 'event' } & WireEvent);

export interface ReasonCode {
  reasonCodeId: string;
  reasonCodeCode: string;
  selectable: boolean;
  labels: { language: string; country: string; name: string; description: string }[];
}

export interface ChannelInfo {
  state: ChannelState;
  agentStatus: { status: AgentStatus; lastReasonCode: string; lastReasonName: string };
}

export interface AddressBook {
  name: string;
  groups: { name: string; groups: unknown[]; entries: AddressEntry[] }[];
  entries: AddressEntry[];
}

export interface AddressEntry {
  name: string;
  type: 'external' | 'agent' | 'skill';
  destinations: { label: string; value: string }[];
  properties: { state?: string; mediaType?: string; numAvailable?: number; numUnavailable?: number; ewt?: string };
}

/** The protocol's commands this gateway and its simulator speak. */
export const COMMANDS = [
  'session.request.logout',
  'session.request.addchannel',
  'session.request.externalnotreadyreasons',
  'session.request.externallogoutreasons',
  'session.request.incontact.addressbook',
  'session.request.incontact.agentleg.connect',
  'session.request.incontact.agentleg.disconnect',
  'channel.activate',
  'channel.deactivate',
  'channel.ready',
  'channel.notready',
] as const;

/** The special reason code of After Call Work (the seed: "acw"). */
export const ACW = 'acw';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a message from the platform cannot be used: the text names what is wrong. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

/** Parse one message from the platform (a response or an event); throws WireError naming the problem. */
export function parseMessage(text: string): WireMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new WireError(`not JSON: ${text.slice(0, 60)}`);
  }
  if (!isObj(v)) throw new WireError('not a JSON object');
  const target = v['target'];
  if (typeof target !== 'string' || target === '') throw new WireError("missing 'target'");
  const data = isObj(v['data']) ? v['data'] : {};
  if (v['messageType'] === 'objectEvent') {
    if (typeof v['name'] !== 'string' || v['name'] === '') throw new WireError("event without 'name'");
    return { kind: 'event', messageType: 'objectEvent', target, name: v['name'], data };
  }
  if (typeof v['command'] !== 'string') throw new WireError("neither an event nor a response (no 'command')");
  if (v['result'] === 'success') return { kind: 'response', command: v['command'], target, result: 'success', data };
  if (v['result'] === 'failure') {
    const f = isObj(v['failure']) ? v['failure'] : {};
    const failure: WireFailure = { code: String(f['code'] ?? ''), message: String(f['message'] ?? '') };
    if (typeof f['context'] === 'string') failure.context = f['context'];
    return { kind: 'response', command: v['command'], target, result: 'failure', failure, original: v['original'] };
  }
  throw new WireError(`response with result ${JSON.stringify(v['result'])}`);
}

/** Parse a request (the simulator's side). */
export function parseRequest(text: string): WireRequest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new WireError('malformed JSON');
  }
  if (!isObj(v)) throw new WireError('a request must be a JSON object');
  if (typeof v['command'] !== 'string' || v['command'] === '') throw new WireError("missing 'command'");
  if (typeof v['target'] !== 'string' || v['target'] === '') throw new WireError("missing 'target'");
  if (v['data'] !== undefined && !isObj(v['data'])) throw new WireError("'data' must be an object");
  return { command: v['command'], target: v['target'], data: (v['data'] as Record<string, unknown> | undefined) ?? {} };
}

export function isAgentStatus(s: unknown): s is AgentStatus {
  return typeof s === 'string' && (AGENT_STATUSES as readonly string[]).includes(s);
}
