/**
 * Keeps a profile's virtual agents in the state the contact center needs (LiveVox's rules):
 * logged in, joined and Ready while the service is open; cycled NotReady -> Ready every
 * `keepAliveMinutes` while idle so the vendor session never expires (never while on a call);
 * NotReady and logged out at closing (a call in progress finishes first). Failures are retried
 * on the next check; an agent is only offered calls (pool Ready) once the vendor has it Ready.
 */
import type { Logger } from 'pino';
import type { ContactCenterConfig, SipProfile } from '../config/types.js';
import type { VendorAdapter, VendorAgent } from '../vendors/types.js';
import { isOpen } from './hours.js';
import type { AgentPool } from './pool.js';
import { guard } from '../util/faults.js';

export type VendorPhase = 'logged-out' | 'logging-in' | 'ready' | 'closing' | 'failed';

export interface AgentVendorState {
  phase: VendorPhase;
  lastKeepAlive: number;
  lastError?: string;
  keepAlives: number;
}

export interface LifecycleOptions {
  /** How often open hours and keep-alives are checked (ms). */
  checkEveryMs?: number;
  now?: () => number;
  /** Steps still pending in the wrap-up outbox for this agent (it is not made Ready before they are done). */
  pendingWrapUp?: (agentId: string) => number;
}

export class AgentLifecycle {
  readonly states = new Map<string, AgentVendorState>();
  private timer?: NodeJS.Timeout;
  private busy = new Set<string>();
  private readonly cc: ContactCenterConfig;
  private readonly now: () => number;

  constructor(
    private readonly profile: SipProfile,
    private readonly adapter: VendorAdapter,
    private readonly pool: AgentPool,
    private readonly log: Logger,
    private readonly opts: LifecycleOptions = {},
  ) {
    this.cc = profile.contactCenter;
    this.now = opts.now ?? (() => Date.now());
    for (const a of profile.agents) {
      this.states.set(a.id, { phase: 'logged-out', lastKeepAlive: 0, keepAlives: 0 });
      // Nobody gets calls before the vendor has them Ready.
      pool.setIdleState(a.id, 'not-ready');
    }
  }

  private vendorAgent(id: string): VendorAgent {
    const a = this.profile.agents.find((x) => x.id === id)!;
    return { id, user: a.vendorUser, password: a.vendorPassword ?? this.cc.password ?? '', serviceId: this.cc.serviceId ?? '', number: a.number };
  }

  /** Periodic checks (call `check()` once first to log agents in). */
  start(): void {
    this.timer = setInterval(guard('agents.lifecycle', () => this.check()), this.opts.checkEveryMs ?? 15_000);
    this.timer.unref();
  }

  /** One pass over every agent: open/close, keep-alive. Exposed for tests with a fast clock. */
  async check(): Promise<void> {
    const open = isOpen(this.cc.openHours, new Date(this.now()));
    await Promise.all(this.profile.agents.map((a) => this.checkAgent(a.id, open)));
  }

  private async checkAgent(id: string, open: boolean): Promise<void> {
    if (this.busy.has(id)) return;
    const st = this.states.get(id)!;
    const agent = this.pool.list().find((a) => a.id === id);
    const onCall = agent?.state === 'busy' || (this.opts.pendingWrapUp?.(id) ?? 0) > 0;
    this.busy.add(id);
    try {
      if (open && (st.phase === 'logged-out' || st.phase === 'failed')) {
        if (agent?.state === 'busy') return;
        st.phase = 'logging-in';
        await this.adapter.login(this.vendorAgent(id));
        if (onCall) {
          // Wrap-up of an earlier call is still pending (e.g. replayed after a restart): the agent
          // is logged in for it, and its last step (Ready) puts the agent back in service.
          st.phase = 'ready';
          st.lastKeepAlive = this.now();
          return;
        }
        await this.adapter.ready(id);
        st.phase = 'ready';
        st.lastKeepAlive = this.now();
        delete st.lastError;
        this.pool.setIdleState(id, 'ready');
        this.log.info({ agent: id }, 'agent logged in, joined and Ready');
      } else if (open && st.phase === 'ready' && !onCall && this.now() - st.lastKeepAlive >= this.cc.keepAliveMinutes * 60_000) {
        // LiveVox expires a session after 2 h without a state change: cycle NotReady -> Ready.
        this.pool.setIdleState(id, 'not-ready');
        await this.adapter.notReady(id, 'keep-alive');
        await this.adapter.ready(id);
        st.lastKeepAlive = this.now();
        st.keepAlives++;
        this.pool.setIdleState(id, 'ready');
      } else if (!open && (st.phase === 'ready' || st.phase === 'closing')) {
        this.pool.setIdleState(id, 'not-ready');
        if (onCall) {
          st.phase = 'closing';
          return;
        }
        await this.adapter.notReady(id, 'closed');
        await this.adapter.logout(id);
        st.phase = 'logged-out';
        this.log.info({ agent: id }, 'service closed: agent NotReady and logged out');
      }
    } catch (e) {
      st.phase = 'failed';
      st.lastError = (e as Error).message;
      this.pool.setIdleState(id, 'not-ready');
      this.log.error({ agent: id, err: st.lastError }, 'agent lifecycle step failed; retried at the next check');
    } finally {
      this.busy.delete(id);
    }
  }

  /** The agent's wrap-up failed for good: it stays NotReady until the next successful login. */
  markFailed(id: string, error: string): void {
    const st = this.states.get(id);
    if (!st) return;
    st.phase = 'failed';
    st.lastError = `wrap-up: ${error}`;
    this.pool.setIdleState(id, 'not-ready');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
