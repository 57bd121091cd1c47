/**
 * Keeps a profile's virtual agents in the state the contact center needs: logged in and Ready
 * while the service is open; kept alive while idle the way the platform's policy says (a state
 * cycle every N minutes, or the adapter's heartbeat), never while on a call; NotReady and logged
 * out at closing (a call in progress finishes first). Failures are retried on the next check; an
 * agent is only offered calls (pool Ready) once the platform has it in a state that takes calls.
 * What the platform itself reports about an agent (inbound `agent-state`) is kept and shown.
 */
import type { Logger } from 'pino';
import type { ContactCenterConfig, SipProfile } from '../config/types.js';
import type { ContactCenterPolicy, VendorAdapter, VendorAgent, VendorAgentState, VendorCallIds } from '../vendors/types.js';
import { isOpen } from './hours.js';
import type { AgentPool } from './pool.js';
import { guard } from '../util/faults.js';
import { backoffMs, realClock, type Clock, type TimerHandle } from '../util/clock.js';

/** The platform holds the agent on a call this node does not have: waited for, checked again soon. */
class OnCallElsewhere extends Error {}

export type VendorPhase = 'logged-out' | 'logging-in' | 'ready' | 'closing' | 'failed';

export interface AgentVendorState {
  phase: VendorPhase;
  lastKeepAlive: number;
  lastError?: string;
  keepAlives: number;
  /** The platform's own last word on the agent (inbound event), with when it came. */
  platform?: { state: VendorAgentState; at: number; reason?: string };
}

export interface LifecycleOptions {
  /** How often open hours and keep-alives are checked (ms). */
  checkEveryMs?: number;
  clock?: Clock;
  /** Steps still pending in the wrap-up outbox for this agent (it is not made Ready before they are done). */
  pendingWrapUp?: (agentId: string) => number;
  /** The agent was signed in again with wrap-up steps pending: run them now. */
  resumeWrapUp?: (agentId: string) => void;
  /**
   * Signing the agent in found the platform holding it in wrap-up of a call nobody here wraps up
   * (its node died, or its INVITE was refused while the agent was being signed in): queue that
   * call's wrap-up (failed), whose Ready puts the agent in service. Resolves once queued.
   */
  orphanedCall?: (agentId: string, ids: VendorCallIds) => Promise<void>;
  /**
   * How often an idle agent in service is audited (its platform status read) for a call the
   * platform holds it in wrap-up for and nobody here has: an INVITE that never reached this node
   * (a carrier's CANCEL while a dead node's address was tried). Default 60 s; 0: never.
   */
  auditEveryMs?: number;
  /** The platform ids of the agent's calls whose disposition is pending here (those are no orphans). */
  pendingCalls?: (agentId: string) => VendorCallIds[];
}

export class AgentLifecycle {
  readonly states = new Map<string, AgentVendorState>();
  private timer?: TimerHandle;
  private busy = new Set<string>();
  /** Failed steps in a row per agent: the next try comes after 1 s, 2 s, 4 s ... (at most a check period). */
  private failures = new Map<string, number>();
  /** The one pending retry per agent (a new failure replaces it: retries never pile up). */
  private retries = new Map<string, TimerHandle>();
  /** When each agent in service was last audited against its platform status. */
  private audited = new Map<string, number>();
  private readonly cc: ContactCenterConfig;
  private readonly clock: Clock;

  constructor(
    private readonly profile: SipProfile,
    private readonly adapter: VendorAdapter,
    private readonly policy: ContactCenterPolicy,
    private readonly pool: AgentPool,
    private readonly log: Logger,
    private readonly opts: LifecycleOptions = {},
  ) {
    this.cc = profile.contactCenter;
    this.clock = opts.clock ?? realClock;
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
    const every = this.opts.checkEveryMs ?? 15_000;
    const tick = guard('agents.lifecycle', async () => {
      await this.check();
      if (this.timer) this.timer = this.clock.set(every, tick);
    });
    this.timer = this.clock.set(every, tick);
  }

  private now(): number {
    return this.clock.wall();
  }

  private get keepAliveMs(): number {
    const k = this.policy.keepAlive;
    return k.kind === 'state-cycle' ? k.everyMinutes * 60_000 : k.kind === 'heartbeat' ? k.everySeconds * 1000 : Infinity;
  }

  /** Keep an idle agent signed in the platform's way. */
  private async keepAlive(id: string): Promise<void> {
    if (this.policy.keepAlive.kind === 'heartbeat') {
      if (!this.adapter.heartbeat) throw new Error(`the ${this.adapter.name} adapter has no heartbeat, which its policy asks for`);
      return this.adapter.heartbeat(id);
    }
    // A state cycle: platforms that expire an idle session count a state change as activity.
    this.pool.setIdleState(id, 'not-ready');
    await this.adapter.notReady(id, 'keep-alive');
    await this.adapter.ready(id);
    this.pool.setIdleState(id, 'ready');
  }

  /**
   * The platform reported the agent's state. It is kept for /agents; a platform that signed the
   * agent out, or took an idle agent out of a state that takes calls, takes it out of service here
   * too, and the next check signs it in and makes it Ready again (within open hours).
   */
  platformState(id: string, state: VendorAgentState, reason?: string, ours = false): boolean {
    const st = this.states.get(id);
    if (!st) return false;
    st.platform = { state, at: this.now(), ...(reason ? { reason } : {}) };
    // The confirmation of our own command is the platform's view to show, nothing to act on.
    if (ours) return true;
    const agent = this.pool.list().find((a) => a.id === id);
    const idle = agent?.state !== 'busy' && (this.opts.pendingWrapUp?.(id) ?? 0) === 0;
    if (state === 'logged-out' && st.phase !== 'logging-in') {
      const wasIn = st.phase === 'ready';
      st.phase = 'logged-out';
      this.pool.setIdleState(id, 'not-ready');
      // Signed out by the platform while in service: repaired now, not at the next periodic check.
      if (wasIn) this.recheckSoon(id, 0);
    } else if (idle && st.phase === 'ready' && !this.policy.mayTakeCall(state) && state !== 'in-call' && state !== 'wrap-up') {
      st.phase = 'failed';
      st.lastError = `the contact center set the agent ${state}${reason ? ` (${reason})` : ''}`;
      this.pool.setIdleState(id, 'not-ready');
      // Put back in service after a short pause (not at once: a platform that keeps refusing must not loop us).
      this.recheckSoon(id, 1000);
    }
    this.log.info({ agent: id, state, reason }, 'contact center reported the agent state');
    return true;
  }

  /**
   * One more failure in a row: the agent is checked again after 1 s, 2 s, 4 s ... (at most
   * `capMs`, default a check period), replacing any retry already pending. Returns the wait.
   */
  private retryAfterFailure(id: string, capMs = this.opts.checkEveryMs ?? 15_000): number {
    const n = (this.failures.get(id) ?? 0) + 1;
    this.failures.set(id, n);
    const ms = backoffMs(n - 1, 1000, capMs);
    if (!this.timer) return ms;
    this.retries.get(id)?.cancel();
    this.retries.set(id, this.clock.set(ms, guard('agents.lifecycle', async () => {
      this.retries.delete(id);
      if (this.timer) await this.checkAgent(id, isOpen(this.cc.openHours, new Date(this.now())));
    })));
    return ms;
  }

  private auditDue(id: string): boolean {
    const every = this.opts.auditEveryMs ?? 60_000;
    if (every <= 0 || !this.opts.orphanedCall) return false;
    const last = this.audited.get(id);
    if (last === undefined) {
      this.audited.set(id, this.now());
      return false;
    }
    return this.now() - last >= every;
  }

  /** One agent checked again after `ms`, while the periodic checks run (never after stop()). */
  private recheckSoon(id: string, ms: number): void {
    if (!this.timer) return;
    this.clock.set(ms, guard('agents.lifecycle', async () => {
      if (this.timer) await this.checkAgent(id, isOpen(this.cc.openHours, new Date(this.now())));
    }));
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
    if (agent?.elsewhere) {
      // Another node owns the agent (cluster): its session is that node's to keep. Nothing is
      // sent to the platform from here; a call still on this node finishes, then the agent rests.
      if (st.phase !== 'logged-out' && agent.state !== 'busy') st.phase = 'logged-out';
      return;
    }
    const onCall = agent?.state === 'busy' || (this.opts.pendingWrapUp?.(id) ?? 0) > 0;
    this.busy.add(id);
    try {
      if (open && (st.phase === 'logged-out' || st.phase === 'failed')) {
        if (agent?.state === 'busy') return;
        st.phase = 'logging-in';
        await this.adapter.login(this.vendorAgent(id));
        const orphan = await this.orphan(id);
        if (onCall || orphan === 'adopted') {
          // Wrap-up of an earlier call is still pending (e.g. replayed after a restart, or a call
          // the platform holds the agent in wrap-up for): the agent is logged in for it, and its
          // last step (Ready) puts the agent back in service.
          st.phase = 'ready';
          st.lastKeepAlive = this.now();
          this.failures.delete(id);
          this.opts.resumeWrapUp?.(id);
          return;
        }
        if (orphan === 'on-call') throw new OnCallElsewhere('the contact center holds the agent on a call this node does not have; it is signed in again once the platform ends that call');
        await this.adapter.ready(id);
        st.phase = 'ready';
        st.lastKeepAlive = this.now();
        delete st.lastError;
        this.failures.delete(id);
        this.pool.setIdleState(id, 'ready');
        this.log.info({ agent: id }, 'agent logged in, joined and Ready');
      } else if (open && st.phase === 'ready' && !onCall && (this.auditDue(id) || this.now() - st.lastKeepAlive >= this.keepAliveMs)) {
        // Audited first: a keep-alive's NotReady would take an agent out of a wrap-up nobody did.
        this.audited.set(id, this.now());
        const orphan = await this.orphan(id);
        // On a call: most likely one the platform is routing here this moment; its INVITE comes
        // (or, lost, the call ends and the next audit finds its wrap-up). Nothing changes now.
        if (orphan === 'on-call') return;
        if (orphan === 'adopted') {
          // Its wrap-up's Ready puts the agent back in service.
          this.pool.setIdleState(id, 'not-ready');
          return;
        }
        if (this.now() - st.lastKeepAlive < this.keepAliveMs) return;
        await this.keepAlive(id);
        st.lastKeepAlive = this.now();
        st.keepAlives++;
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
      // Tried again soon, not a whole check period later: one refused step (the platform routing
      // a call at the moment we sign in) must not keep an agent out of service for long. Waiting
      // for a call the platform will end soon (an INVITE lost on its way here, its caller gone):
      // at most 4 s apart.
      const retryMs = this.retryAfterFailure(id, e instanceof OnCallElsewhere ? 4000 : undefined);
      this.log.error({ agent: id, err: st.lastError, retryMs }, 'agent lifecycle step failed; tried again');
    } finally {
      this.busy.delete(id);
    }
  }

  /**
   * After a sign-in: does the platform hold the agent on a call this node has no record of (no
   * call leased here, no wrap-up pending)? In wrap-up, that call is over and nobody will wrap it
   * up (it died with another node, or its INVITE was refused while the agent was signed in): its
   * wrap-up is queued here (`adopted`). Still in call (`on-call`), its INVITE may be on its way to
   * us or its leg died with another node: it is not touched (a term code and Ready now would let
   * that INVITE in with its disposition already set); the agent stays out of service and is
   * checked again until the platform ends the call.
   */
  private async orphan(id: string): Promise<'none' | 'adopted' | 'on-call'> {
    if (!this.opts.orphanedCall) return 'none';
    const st = await this.adapter.status(id).catch(() => undefined);
    if (!st || (st.state !== 'in-call' && st.state !== 'wrap-up') || !st.call || !this.policy.isPlatformCall(st.call)) return 'none';
    // A call of ours after all (it arrived while we asked, or its wrap-up is pending here): the
    // platform is right, nothing to adopt.
    const agent = this.pool.list().find((a) => a.id === id);
    if (agent?.state === 'busy' || this.opts.pendingCalls?.(id).some((ids) => this.policy.sameCall(ids, st.call!))) return 'none';
    if (!this.opts.pendingCalls && (this.opts.pendingWrapUp?.(id) ?? 0) > 0) return 'none';
    if (st.state === 'in-call') {
      this.log.info({ agent: id, call: st.call }, 'the contact center holds the agent on a call this node does not have (yet): not touched');
      return 'on-call';
    }
    this.log.warn({ agent: id, platformState: st.state, call: st.call }, 'the contact center holds the agent in wrap-up of a call nobody here has: wrapped up here as failed');
    await this.opts.orphanedCall(id, st.call);
    return 'adopted';
  }

  /**
   * Cluster handover: another node is to own the agent. It is made NotReady at the platform first,
   * so the platform routes it no call while the other node signs it in, then signed out. False:
   * not now, the agent stays here (the platform refused NotReady, e.g. it has just routed the agent
   * a call, which is on its way to this node; or the lifecycle is busy with the agent). `force`
   * (this node is stopping): handed over whatever the platform says; the next owner signs in over it.
   */
  async handOver(id: string, force = false): Promise<boolean> {
    const st = this.states.get(id);
    if (!st || st.phase === 'logged-out') return true;
    if (this.busy.has(id) && !force) return false;
    this.busy.add(id);
    try {
      // A call the platform holds the agent on that nobody here has: adopted (or waited for) here,
      // never lost to a NotReady (which a platform accepts in wrap-up) and the next owner's Ready.
      if (!force) {
        const orphan = await this.orphan(id);
        if (orphan !== 'none') {
          this.log.info({ agent: id, orphan }, 'handover put off: the contact center holds the agent on a call');
          return false;
        }
      }
      try {
        await this.adapter.notReady(id, 'handover');
      } catch (e) {
        if (!force) {
          this.log.info({ agent: id, err: (e as Error).message }, 'handover put off: the contact center did not take the agent out of service');
          return false;
        }
        this.log.warn({ agent: id, err: (e as Error).message }, 'handover: NotReady at the platform failed; the next owner signs in over it');
      }
      this.pool.setIdleState(id, 'not-ready');
      await this.adapter.logout(id).catch((e: Error) => this.log.warn({ agent: id, err: e.message }, 'handover: sign-out at the platform failed; the next owner signs in over it'));
      st.phase = 'logged-out';
      return true;
    } finally {
      this.busy.delete(id);
    }
  }

  /** Cluster ownership changed for one of this profile's agents: act on it now, not at the next pass. */
  ownershipChanged(id: string): void {
    if (this.states.has(id)) this.recheckSoon(id, 0);
  }

  /** The agent's wrap-up failed for good: it stays NotReady until the next successful login. */
  markFailed(id: string, error: string): void {
    const st = this.states.get(id);
    if (!st) return;
    st.phase = 'failed';
    st.lastError = `wrap-up: ${error}`;
    this.pool.setIdleState(id, 'not-ready');
    // Signed in again soon (which looks at the platform's state and resumes the wrap-up), with
    // the same back-off as a failed sign-in, not a whole check period later.
    this.retryAfterFailure(id);
  }

  stop(): void {
    this.timer?.cancel();
    delete this.timer;
    for (const t of this.retries.values()) t.cancel();
    this.retries.clear();
  }
}
