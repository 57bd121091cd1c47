/**
 * The strict CC-Gateway simulator's agents, as the interfaces describe them (Huawei Cloud CEC API
 * reference, Agent Operation Interfaces): sign-in with password and softphone number, a Guid per
 * session that every later request must carry, a second sign-in refused with 100-002 until
 * forcelogin, the states idle (4), busy (3) and work (5), and events queued for the poll. The
 * heartbeat rule: an agent that has not polled for 2 minutes is signed out. Pure state with an
 * injected clock; the HTTP server (./server.ts) maps requests onto it.
 */
import { randomUUID } from 'node:crypto';
import type { AgentEvent } from '../wire.js';

/** retcodes the simulator answers with (the interface pages' error-code lists). */
export const RET = {
  ok: '0',
  /** The account is signed in (on another session): forcelogin signs it in here. */
  signedInElsewhere: '100-002',
  /** The agent is not signed in (never, signed out, or signed out by the heartbeat rule). */
  notSignedIn: '100-006',
  /** The request's Guid is missing or is not the agent's session. */
  badGuid: '000-003',
  /** A parameter is missing or out of range. */
  badParameter: '000-002',
  /** The operation is not allowed in the agent's state. */
  wrongState: '100-007',
} as const;

export class SimRefusal extends Error {
  constructor(
    readonly retcode: string,
    message: string,
  ) {
    super(message);
  }
}

export type AgentStatus = 'idle' | 'busy' | 'work' | 'talking';
export type StatusOp = 'sayfree' | 'saybusy' | 'cancelbusy' | 'work' | 'cancelwork';
const STATUS_CODE: Record<AgentStatus, number> = { busy: 3, idle: 4, work: 5, talking: 7 };

export interface SimAgentConfig {
  agentId: string;
  password: string;
  /** The voice skill queues the agent is bound to (ids). */
  skills?: string[];
}

interface SimAgent {
  cfg: SimAgentConfig;
  session?: { guid: string; phonenum: string; autoanswer: boolean; autoenteridle: boolean; lastPollAt: number };
  status: AgentStatus;
  /** When the agent last became idle (longest-idle agent selection). */
  idleSince: number;
  events: AgentEvent[];
  /** Sign-outs by the heartbeat rule. */
  heartbeatSignOuts: number;
}

export const HEARTBEAT_MS = 2 * 60_000;
const MAX_QUEUED_EVENTS = 200;

export class CcGatewayState {
  private readonly agents = new Map<string, SimAgent>();
  /** Called when an agent has a new event (wakes its held poll). */
  onEvent?: (agentId: string) => void;

  /** Called with each status operation that succeeded (the call records count wrap-ups by it). */
  onStatusOp?: (agentId: string, op: StatusOp) => void;

  constructor(
    agents: SimAgentConfig[],
    readonly now: () => number,
    /** The heartbeat rule's limit (2 minutes on the platform; shorter only in tests). */
    private readonly heartbeatMs = HEARTBEAT_MS,
  ) {
    for (const a of agents) this.agents.set(a.agentId, { cfg: a, status: 'busy', idleSince: 0, events: [], heartbeatSignOuts: 0 });
  }

  private agent(id: string): SimAgent {
    const a = this.agents.get(id);
    if (!a) throw new SimRefusal(RET.notSignedIn, `agent ${id} does not exist`);
    return a;
  }

  /** The heartbeat rule, applied lazily before every look at an agent. */
  private expire(a: SimAgent): void {
    if (a.session && this.now() - a.session.lastPollAt > this.heartbeatMs) this.signOut(a);
  }

  /** Signed out by the platform (the heartbeat rule): the session and its queued events are gone. */
  private signOut(a: SimAgent): void {
    delete a.session;
    a.status = 'busy';
    a.heartbeatSignOuts++;
    a.events = [];
  }

  private push(a: SimAgent, eventType: string, content: Record<string, unknown> | string = {}): void {
    if (a.events.length >= MAX_QUEUED_EVENTS) a.events.shift();
    // The platform sends some events' content as the bare call id (AgentEvent_Hold); parsePoll
    // reads both forms, the queue keeps what goes on the wire.
    a.events.push({ eventType, workNo: a.cfg.agentId, content: content as Record<string, unknown> });
    this.onEvent?.(a.cfg.agentId);
  }

  private setAgentStatus(a: SimAgent, next: AgentStatus): void {
    if (next === 'idle' && a.status !== 'idle') a.idleSince = this.now();
    a.status = next;
  }

  /** An event for a signed-in agent (the call side's events); dropped when it is signed out. */
  event(id: string, eventType: string, content: Record<string, unknown> | string): void {
    const a = this.agent(id);
    this.expire(a);
    if (a.session) this.push(a, eventType, content);
  }

  /** Signed-in idle agents bound to `skill` (or the one named), longest idle first: who may be offered a call. */
  idleAgents(skill?: string): { agentId: string; phonenum: string }[] {
    return [...this.agents.values()]
      .filter((a) => {
        this.expire(a);
        return a.session && a.status === 'idle' && (skill === undefined || (a.cfg.skills ?? []).includes(skill));
      })
      .sort((x, y) => x.idleSince - y.idleSince)
      .map((a) => ({ agentId: a.cfg.agentId, phonenum: a.session!.phonenum }));
  }

  /** The platform offers the agent a call: it leaves idle at once (no second offer). */
  occupy(id: string): void {
    const a = this.agent(id);
    if (a.status !== 'idle' || !a.session) throw new SimRefusal(RET.wrongState, `agent ${id} is not idle`);
    this.setAgentStatus(a, 'talking');
  }

  /**
   * The agent's call was released: it enters wrap-up (work, "arranging"); with auto-enter-idle the
   * caller schedules its return to idle after the skill's wrap-up time. Returns whether it does.
   */
  callReleased(id: string): boolean {
    const a = this.agent(id);
    this.expire(a);
    if (!a.session) return false;
    this.setAgentStatus(a, 'work');
    this.push(a, 'AgentState_Work');
    return a.session.autoenteridle;
  }

  /** An offered call was not answered: the agent is set busy (no further offers until it says free). */
  notAnswered(id: string): void {
    const a = this.agent(id);
    this.expire(a);
    if (!a.session) return;
    this.setAgentStatus(a, 'busy');
    this.push(a, 'AgentState_Busy');
  }

  /** The wrap-up time ran out: back to idle, unless the agent left wrap-up by itself. */
  wrapUpTimeOver(id: string): void {
    const a = this.agent(id);
    this.expire(a);
    if (!a.session || a.status !== 'work') return;
    this.setAgentStatus(a, 'idle');
    this.push(a, 'AgentState_Ready');
  }

  /** The agent's session's Guid check, for the voice interfaces. */
  check(id: string, guid: string | undefined): void {
    this.session(id, guid);
  }

  /** Sign the agent out as the heartbeat rule would (tests of the repair without a 2-minute wait). */
  forceSignOut(id: string): void {
    const a = this.agent(id);
    if (a.session) this.signOut(a);
  }

  statusOf(id: string): AgentStatus | 'signed-out' {
    const a = this.agent(id);
    this.expire(a);
    return a.session ? a.status : 'signed-out';
  }

  /** PUT onlineagent/{id} (or .../forcelogin with `force`): a new session; returns its Guid. */
  signIn(id: string, body: unknown, force: boolean): { guid: string; result: Record<string, unknown> } {
    const a = this.agent(id);
    this.expire(a);
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof b.password !== 'string' || b.password === '' || b.password.length > 32 || typeof b.phonenum !== 'string' || b.phonenum === '' || b.phonenum.length > 24) {
      throw new SimRefusal(RET.badParameter, 'password (1-32 characters) and phonenum (1-24 characters) are required');
    }
    if (b.password !== a.cfg.password) throw new SimRefusal(RET.badParameter, 'wrong password');
    if (a.session && !force) throw new SimRefusal(RET.signedInElsewhere, `agent ${id} has signed in`);
    const status = b.status === 3 ? 'busy' : b.status === 5 ? 'work' : 'idle';
    a.session = { guid: randomUUID(), phonenum: b.phonenum, autoanswer: b.autoanswer !== false, autoenteridle: b.autoenteridle !== false, lastPollAt: this.now() };
    this.setAgentStatus(a, status);
    a.events = [];
    this.push(a, status === 'idle' ? 'AgentState_Ready' : status === 'work' ? 'AgentState_Work' : 'AgentState_Busy');
    return { guid: a.session.guid, result: { workno: id, mediatype: 'TFF' } };
  }

  /** Every request after sign-in: the agent's session, checked against the request's Guid. */
  private session(id: string, guid: string | undefined): SimAgent & { session: NonNullable<SimAgent['session']> } {
    const a = this.agent(id);
    this.expire(a);
    if (!a.session) throw new SimRefusal(RET.notSignedIn, `agent ${id} has not signed in`);
    if (!guid || guid !== a.session.guid) throw new SimRefusal(RET.badGuid, 'the Guid is not this agent\'s session');
    return a as SimAgent & { session: NonNullable<SimAgent['session']> };
  }

  logout(id: string, guid: string | undefined): void {
    this.session(id, guid);
    const a = this.agent(id);
    delete a.session;
    a.status = 'busy';
  }

  /** sayfree / saybusy / cancelbusy / work / cancelwork. */
  setStatus(id: string, guid: string | undefined, op: StatusOp): void {
    const a = this.session(id, guid);
    if (a.status === 'talking') throw new SimRefusal(RET.wrongState, `${op}: the agent is talking`);
    const next: AgentStatus = op === 'saybusy' ? 'busy' : op === 'work' ? 'work' : 'idle';
    if (op === 'cancelwork' && a.status !== 'work') throw new SimRefusal(RET.wrongState, 'cancelwork: the agent is not in the work state');
    if (op === 'cancelbusy' && a.status !== 'busy') throw new SimRefusal(RET.wrongState, 'cancelbusy: the agent is not busy');
    this.onStatusOp?.(id, op);
    if (a.status === next) return;
    this.setAgentStatus(a, next);
    this.push(a, next === 'idle' ? 'AgentState_Ready' : next === 'work' ? 'AgentState_Work' : 'AgentState_Busy');
  }

  agentStatus(id: string, guid: string | undefined): { status: number } {
    return { status: STATUS_CODE[this.session(id, guid).status] };
  }

  /** GET agentevent/{id}: the next event, or null (the server holds the poll while there is none). */
  poll(id: string, guid: string | undefined): AgentEvent | null {
    const a = this.session(id, guid);
    a.session.lastPollAt = this.now();
    return a.events.shift() ?? null;
  }

  /** Admin view: each agent's state, session and heartbeat sign-outs. */
  snapshot(): { agentId: string; signedIn: boolean; status: AgentStatus | 'signed-out'; phonenum?: string; heartbeatSignOuts: number; queuedEvents: number }[] {
    return [...this.agents.values()].map((a) => {
      this.expire(a);
      return { agentId: a.cfg.agentId, signedIn: !!a.session, status: a.session ? a.status : 'signed-out', ...(a.session ? { phonenum: a.session.phonenum } : {}), heartbeatSignOuts: a.heartbeatSignOuts, queuedEvents: a.events.length };
    });
  }
}
