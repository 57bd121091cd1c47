/**
 * The simulator's state: agents, sessions, calls, term codes and contacts. Pure: no I/O, no
 * timers; time comes from the injected clock and time-driven changes (session expiry, the human
 * joining a conference) are applied by `tick()`, which every entry point calls first.
 * The rule-enforcing operations live in ops-agent.ts, ops-call.ts and ops-catalog.ts.
 */
import { LvCode, type LineState, type LoginResponse } from '../wire.js';
import { SimEmitter, SimError, type AgentRecord, type CallRecord, type ContactRecord, type SessionRecord, type SimServiceConfig, type SimStateOptions } from './records.js';

const HISTORY = 200;
/** Call records kept by default; past it the oldest ended call is dropped. */
const KEEP_CALLS = 10_000;

/** Read access for tests and the admin API; every value returned is a copy. */
export interface SimStateView {
  agent(user: string): AgentRecord | undefined;
  call(transactionId: string): CallRecord | undefined;
  calls(only?: (transactionId: string) => boolean): CallRecord[];
  contact(account: string): ContactRecord | undefined;
  activeSessions(): number;
  /** 'METHOD /path' -> number of requests (admin requests excluded). */
  requestCounts(): Record<string, number>;
  snapshot(calls?: (transactionId: string) => boolean): SimSnapshot;
}

export interface SimSnapshot {
  now: number;
  agents: AgentRecord[];
  sessions: { user: string; createdAt: number; lastUsedAt: number }[];
  calls: CallRecord[];
  contacts: ContactRecord[];
  requests: Record<string, number>;
}

export class SimState implements SimStateView {
  readonly agentMap = new Map<string, AgentRecord>();
  readonly callMap = new Map<string, CallRecord>();
  readonly contactMap = new Map<string, ContactRecord>();
  readonly services = new Map<string, SimServiceConfig>();
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly sessionOfUser = new Map<string, string>();
  private readonly expired = new Set<string>();
  private readonly passwords = new Map<string, string>();
  private readonly requests = new Map<string, number>();
  /** Calls with a conference whose human has not joined yet: `tick` looks only at these, not at every record. */
  readonly pendingJoins = new Set<string>();
  private seq = 0;

  constructor(
    readonly opts: SimStateOptions,
    readonly events: SimEmitter = new SimEmitter(),
  ) {
    opts.agents.forEach((a, i) => {
      this.passwords.set(a.user, a.password);
      const at = opts.clock();
      this.agentMap.set(a.user, { user: a.user, userId: 1000 + i, state: 'LOGOFF', stateChangedTime: at, history: [{ state: 'LOGOFF', at }] });
    });
    for (const s of opts.services) this.services.set(s.id, s);
  }

  now(): number {
    return this.opts.clock();
  }

  /** Apply what time alone changes: idle sessions expire, humans join pending conferences. */
  tick(): void {
    const now = this.now();
    for (const s of [...this.sessions.values()]) if (now - s.lastUsedAt > this.opts.sessionIdleMs) this.endSession(s);
    for (const id of this.pendingJoins) {
      const call = this.callMap.get(id);
      const conf = call?.conference;
      if (!call || call.status !== 'active' || !conf || conf.humanJoinedAt !== undefined) {
        this.pendingJoins.delete(id);
        continue;
      }
      if (now < conf.joinAt) continue;
      this.pendingJoins.delete(id);
      conf.humanJoinedAt = now;
      const agent = this.agentMap.get(call.agentUser);
      if (agent?.currentCall === call.transactionId && agent.state === 'TRANSFERRING') this.setState(agent, 'INCALL');
      this.events.emit('human-joined', structuredClone(call));
    }
  }

  // ---- sessions

  checkAccessToken(accessToken: string | undefined): void {
    if (accessToken !== this.opts.accessToken) throw new SimError(401, LvCode.badAccessToken, accessToken ? 'invalid LV-Access token' : 'missing LV-Access header');
  }

  login(accessToken: string | undefined, clientName: string, userName: string, password: string): LoginResponse {
    this.checkAccessToken(accessToken);
    if (clientName !== this.opts.clientName) throw new SimError(401, LvCode.unknownClient, `unknown client '${clientName}'`);
    const agent = this.agentMap.get(userName);
    if (!agent || this.passwords.get(userName) !== password) throw new SimError(401, LvCode.badCredentials, 'invalid userName or password');
    this.tick();
    const now = this.now();
    const existing = this.sessionOfUser.get(userName);
    let session = existing ? this.sessions.get(existing) : undefined;
    if (session) session.lastUsedAt = now;
    else {
      session = { id: this.opts.newId(), user: userName, createdAt: now, lastUsedAt: now };
      this.sessions.set(session.id, session);
      this.sessionOfUser.set(userName, session.id);
    }
    return { sessionId: session.id, userId: agent.userId, clientId: 1, daysUntilPasswordExpires: 90 };
  }

  /** The agent behind a valid `LV-Session`; renews the session's rolling idle window. */
  authenticate(sessionId: string | undefined): AgentRecord {
    if (!sessionId) throw new SimError(401, LvCode.invalidSession, 'missing LV-Session header');
    this.tick();
    const session = this.sessions.get(sessionId);
    if (!session) {
      if (this.expired.has(sessionId)) throw new SimError(401, LvCode.sessionExpired, 'session expired');
      throw new SimError(401, LvCode.invalidSession, 'invalid session');
    }
    session.lastUsedAt = this.now();
    return this.agentMap.get(session.user) as AgentRecord;
  }

  /** End every session now (as if the idle window had passed); returns how many ended. */
  expireSessions(): number {
    const all = [...this.sessions.values()];
    for (const s of all) this.endSession(s);
    return all.length;
  }

  private endSession(s: SessionRecord): void {
    this.sessions.delete(s.id);
    this.sessionOfUser.delete(s.user);
    this.expired.add(s.id);
    const agent = this.agentMap.get(s.user);
    // An agent without a session is logged off, unless a call still holds it.
    if (agent && ['LOGON', 'READY', 'NOTREADY', 'WRAPUP'].includes(agent.state)) {
      delete agent.serviceId;
      delete agent.phoneNumber;
      this.setState(agent, 'LOGOFF');
    }
  }

  // ---- helpers for the operations

  setState(agent: AgentRecord, state: LineState): void {
    if (agent.state === state) return;
    agent.state = state;
    agent.stateChangedTime = this.now();
    agent.history.push({ state, at: agent.stateChangedTime });
    if (agent.history.length > HISTORY) agent.history.shift();
    this.events.emit('agent-state', structuredClone(agent));
  }

  service(id: string): SimServiceConfig {
    const s = this.services.get(id);
    if (!s) throw new SimError(404, LvCode.notFound, `service '${id}' not found`);
    return s;
  }

  addCall(call: CallRecord): void {
    this.callMap.set(call.transactionId, call);
    if (this.callMap.size <= (this.opts.keepCalls ?? KEEP_CALLS)) return;
    for (const [id, c] of this.callMap) {
      if (c.status === 'ended') {
        this.callMap.delete(id);
        return;
      }
    }
  }

  /** 1, 2, 3, ... for generated ids. */
  nextSeq(): number {
    return ++this.seq;
  }

  countRequest(key: string): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  // ---- read access

  agent(user: string): AgentRecord | undefined {
    this.tick();
    const a = this.agentMap.get(user);
    return a && structuredClone(a);
  }

  call(transactionId: string): CallRecord | undefined {
    this.tick();
    const c = this.callMap.get(transactionId);
    return c && structuredClone(c);
  }

  calls(only?: (transactionId: string) => boolean): CallRecord[] {
    const out: CallRecord[] = [];
    for (const c of this.callMap.values()) if (!only || only(c.transactionId)) out.push(structuredClone(c));
    return out;
  }

  contact(account: string): ContactRecord | undefined {
    const c = this.contactMap.get(account);
    return c && structuredClone(c);
  }

  activeSessions(): number {
    this.tick();
    return this.sessions.size;
  }

  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.requests);
  }

  /** `calls`: which calls to include (default all). */
  snapshot(calls?: (transactionId: string) => boolean): SimSnapshot {
    this.tick();
    return {
      now: this.now(),
      agents: [...this.agentMap.values()].map((a) => structuredClone(a)),
      sessions: [...this.sessions.values()].map((s) => ({ user: s.user, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt })),
      calls: this.calls(calls),
      contacts: [...this.contactMap.values()].map((c) => structuredClone(c)),
      requests: this.requestCounts(),
    };
  }
}
