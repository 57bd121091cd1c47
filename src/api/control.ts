/**
 * REST control API: calls and agents with their state, and the same actions the engine can send,
 * through the same state machine. An action not possible now is refused with 409 and the list of
 * what is possible (the Genesys `actionsPossible` model).
 *
 *   GET  /calls                      list calls: status, actionsPossible, agent, vendor ids
 *   GET  /calls/{callId}             one call
 *   POST /calls/{callId}/actions     {"action": "RELEASE_CALL"|"HOLD"|"RETRIEVE"|"SINGLE_STEP_TRANSFER"|"SEND_DTMF", ...params}
 *   GET  /agents                     agents: pool state, contact-center phase, wrap-up pending
 *   POST /agents/{agentId}/state     {"state": "ready"|"not-ready"}
 */
import { ActionNotPossible, act, actionsPossible, statusOf } from '../call/actions.js';
import type { Call } from '../call/call.js';
import type { Agent } from '../agents/pool.js';

export interface ControlSources {
  calls(): Iterable<Call>;
  call(id: string): Call | undefined;
  agents(): Agent[];
  agentDetail(id: string): Record<string, unknown>;
  setAgentState(id: string, state: 'ready' | 'not-ready'): Promise<Agent | undefined>;
}

export interface ApiReply {
  status: number;
  body: unknown;
}

export function describeCall(c: Call): Record<string, unknown> {
  return {
    callId: c.info.callId,
    status: statusOf(c),
    state: c.state,
    actionsPossible: actionsPossible(c),
    agentId: c.info.agentId,
    number: c.info.number,
    caller: c.info.caller,
    profile: c.info.profile,
    startedAt: new Date(c.info.startedAt).toISOString(),
    vendorIds: c.vendorIds ?? {},
    ...(c.endReason ? { endReason: c.endReason, endedBy: c.endedBy } : {}),
    ...(c.endedAt !== undefined ? { endedAt: new Date(c.endedAt).toISOString(), durationMs: c.durationMs } : {}),
    // The media plane's final counters once it reported them (the worker sends them at the close).
    media: c.finalStats ?? c.media.stats,
  };
}

/** The path's segments, percent-decoded; null when one is not valid percent-encoding (e.g. `%ZZ`). */
export function pathParts(path: string): string[] | null {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
}

export const malformedPath = (path: string): ApiReply => ({ status: 400, body: { error: `malformed percent-encoding in the path ${JSON.stringify(path.slice(0, 100))}` } });

/** `who`: the API's caller as the call record names it (its address, and X-Operator when given). */
export async function handleControl(method: string, path: string, body: unknown, src: ControlSources, who = 'api'): Promise<ApiReply | null> {
  const parts = pathParts(path);
  if (!parts) return malformedPath(path);
  if (parts[0] === 'calls') {
    if (parts.length === 1 && method === 'GET') return { status: 200, body: { calls: [...src.calls()].map(describeCall) } };
    const call = parts[1] ? src.call(parts[1]) : undefined;
    if (parts.length >= 2 && !call) return { status: 404, body: { error: `no call ${parts[1]}` } };
    if (parts.length === 2 && method === 'GET') return { status: 200, body: describeCall(call!) };
    if (parts.length === 3 && parts[2] === 'actions' && method === 'POST') {
      const b = (body ?? {}) as Record<string, unknown>;
      if (typeof b['action'] !== 'string') return { status: 400, body: { error: 'body must be JSON with a string "action"' } };
      try {
        const params = Object.fromEntries(Object.entries(b).filter(([k, v]) => k !== 'action' && typeof v === 'string')) as Record<string, string>;
        await act(call!, b['action'], params, who);
        return { status: 202, body: describeCall(call!) };
      } catch (e) {
        if (e instanceof ActionNotPossible) return { status: 409, body: { error: e.message, status: e.status, actionsPossible: e.possible } };
        if (e instanceof TypeError) return { status: 400, body: { error: e.message } };
        throw e;
      }
    }
  }
  if (parts[0] === 'agents') {
    if (parts.length === 1 && method === 'GET') return { status: 200, body: { agents: src.agents().map((a) => ({ ...a, ...src.agentDetail(a.id) })) } };
    if (parts.length === 3 && parts[2] === 'state' && method === 'POST') {
      const state = (body as Record<string, unknown> | undefined)?.['state'];
      if (state !== 'ready' && state !== 'not-ready') return { status: 400, body: { error: 'body must be {"state": "ready" | "not-ready"}' } };
      // In a cluster only the agent's owner may tell its contact center anything.
      if (src.agents().find((a) => a.id === parts[1])?.elsewhere) return { status: 409, body: { error: `agent ${parts[1]} is served by another node` } };
      const a = await src.setAgentState(parts[1]!, state);
      return a ? { status: 200, body: { ...a, ...src.agentDetail(a.id) } } : { status: 404, body: { error: `no agent ${parts[1]}` } };
    }
  }
  return null;
}
