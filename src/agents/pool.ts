/**
 * The virtual agents a gateway serves. One virtual agent = one call: an agent is leased for the
 * life of a call and is otherwise Ready or NotReady. Until a contact-center adapter drives them,
 * agents start in the state their config gives and stay there.
 */
import type { SipProfile } from '../config/types.js';

export type AgentState = 'ready' | 'not-ready' | 'busy';

export interface Agent {
  readonly id: string;
  readonly number: string;
  readonly key: string;
  readonly profile: string;
  readonly engine: string;
  state: AgentState;
  /** In a cluster: another node owns the agent (its lease), so this one takes no call for it. */
  elsewhere?: boolean;
  /** State to return to when the current call ends. */
  idleState: 'ready' | 'not-ready';
  callId?: string;
}

export type LeaseResult =
  | { ok: true; agent: Agent; release: () => void }
  | { ok: false; why: 'unknown' | 'not-ready' | 'busy' | 'elsewhere'; agent?: Agent };

export class AgentPool {
  private byKey = new Map<string, Agent>();
  private byId = new Map<string, Agent>();
  /** Agents in state 'ready' (kept as states change: the overload gate reads it per call). */
  private nReady = 0;

  constructor(profiles: readonly SipProfile[]) {
    for (const p of profiles) {
      for (const a of p.agents) {
        const agent: Agent = { id: a.id, number: a.number, key: a.key, profile: p.name, engine: a.engine, state: a.initialState, idleState: a.initialState };
        this.byKey.set(`${p.name}|${a.key}`, agent);
        this.byId.set(a.id, agent);
        if (agent.state === 'ready') this.nReady++;
      }
    }
  }

  find(profile: string, key: string): Agent | undefined {
    return this.byKey.get(`${profile}|${key}`);
  }

  /** Take the agent for a call, or say why not. The release function is idempotent. */
  lease(profile: string, key: string, callId: string): LeaseResult {
    const agent = this.find(profile, key);
    if (!agent) return { ok: false, why: 'unknown' };
    if (agent.elsewhere) return { ok: false, why: 'elsewhere', agent };
    if (agent.state === 'busy') return { ok: false, why: 'busy', agent };
    if (agent.state === 'not-ready') return { ok: false, why: 'not-ready', agent };
    this.put(agent, 'busy');
    agent.callId = callId;
    let released = false;
    return {
      ok: true,
      agent,
      release: () => {
        if (released) return;
        released = true;
        this.put(agent, agent.idleState);
        delete agent.callId;
      },
    };
  }

  /** Operator/adapter change; a busy agent takes it when its call ends. */
  setIdleState(id: string, state: 'ready' | 'not-ready'): Agent | undefined {
    const a = this.byId.get(id);
    if (!a) return undefined;
    a.idleState = state;
    if (a.state !== 'busy') this.put(a, state);
    return a;
  }

  /** Agents ready for a call now. */
  get readyCount(): number {
    return this.nReady;
  }

  private put(a: Agent, state: AgentState): void {
    if (a.state === 'ready') this.nReady--;
    if (state === 'ready') this.nReady++;
    a.state = state;
  }

  /**
   * Cluster ownership: an agent owned elsewhere takes no call here (and is not offered here). One
   * given away comes back NotReady: it takes calls again only once it is signed in and Ready anew.
   */
  setOwned(id: string, owned: boolean): void {
    const a = this.byId.get(id);
    if (!a) return;
    a.elsewhere = !owned;
    if (!owned) this.setIdleState(id, 'not-ready');
  }

  list(): Agent[] {
    return [...this.byId.values()];
  }

  counts(): Record<AgentState, number> {
    const c: Record<AgentState, number> = { ready: 0, 'not-ready': 0, busy: 0 };
    for (const a of this.byId.values()) c[a.state]++;
    return c;
  }
}
