/**
 * Wrap-up in lockstep with the contact center, and nothing lost: every step of a call's wrap-up
 * (term code, contact update, agent back to Ready) is written to the durable outbox before it is
 * attempted and removed only once the vendor confirmed it. Steps of one agent run in order, one at
 * a time; after a restart the outbox is replayed first. An agent whose wrap-up keeps failing is
 * set NotReady and reported (`failed`), and its steps stay in the outbox to be retried later.
 */
import type { Logger } from 'pino';
import type { OutboxStore } from '../store/outbox.js';
import { backoffMs, realClock, sleep, type Clock, type TimerHandle } from '../util/clock.js';
import { VendorError, type VendorAdapter, type VendorCallIds, type WrapStep } from '../vendors/types.js';

export type { WrapStep };

export interface WrapUpHooks {
  /** The agent's last step (Ready) is about to be sent: from now on it may take a call again. */
  ready(agentId: string, callId: string): void;
  /** Retries are exhausted: the agent is NotReady at the vendor (best effort) and must be reported. */
  failed(agentId: string, callId: string, error: string): void;
  /**
   * In a cluster: whether this node still holds the agent's lease (the fencing check). A node
   * that lost it sends nothing for the agent; its steps stay in the outbox.
   */
  mayAct?(agentId: string): Promise<boolean>;
}

export interface WrapUpStats {
  confirmed: number;
  retries: number;
  failures: number;
  /** Term codes / contact updates the contact center refused for good (e.g. a call it never routed). */
  rejected: number;
  /** Refused term codes set after all with the ids the contact center's agent status gave. */
  reconciled: number;
  /** Steps held because this node no longer held the agent's lease. */
  fenced: number;
}

const MAX_READY_DELAY_MS = 5 * 60_000;

/** A step's call and place in the call's plan, from its id (`<callId>:<index>:<kind>`, see `add`). */
function planPlace(id: string): { call: string; index: number } {
  const m = /^(.*):(\d+):[A-Za-z]+$/.exec(id);
  return m ? { call: m[1]!, index: Number(m[2]) } : { call: id, index: 0 };
}

/**
 * The step to run next among an agent's: the oldest call's, and within a call the plan's order.
 * Not the store's order: a store read back from elsewhere (Redis, after a takeover) need not keep
 * the order its entries were written in, and a Ready before its term code is refused.
 */
function firstOf<T extends { id: string; createdAt: number }>(entries: T[]): T | undefined {
  let best: T | undefined;
  for (const e of entries) {
    if (!best || e.createdAt < best.createdAt) best = e;
    else if (e.createdAt === best.createdAt) {
      const [a, b] = [planPlace(e.id), planPlace(best.id)];
      if (a.call === b.call && a.index < b.index) best = e;
    }
  }
  return best;
}

export class WrapUpRunner {
  readonly stats: WrapUpStats = { confirmed: 0, retries: 0, failures: 0, rejected: 0, reconciled: 0, fenced: 0 };
  private running = new Set<string>();
  private parked = new Map<string, TimerHandle>();
  private stopped = false;
  private readyGate?: () => Promise<void>;
  /** Ready steps waiting at the gate now, and when each left it (until it is sent). */
  private readonly atGate = new Set<string>();
  private readonly gateLeft = new Map<string, number>();

  constructor(
    private readonly outbox: OutboxStore<WrapStep>,
    private readonly adapterFor: (agentId: string) => VendorAdapter | undefined,
    private readonly opts: { maxAttempts: number; retryMs: number; parkMs?: number },
    private readonly hooks: WrapUpHooks,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {}

  /** Each Ready step waits for `gate` first (the call manager's overload gate). */
  gateReady(gate: () => Promise<void>): void {
    this.readyGate = gate;
  }

  /**
   * Durably record the steps of a call, then run them. Resolves once they are on disk.
   * `onDisk` runs after they are and before the first is sent (the call's open record is removed
   * there, so a crash can never leave both a done wrap-up and an open call). `run: false` only
   * records them (at start, before the agents are signed in; `replay` runs them).
   */
  async add(steps: WrapStep[], o: { onDisk?: () => Promise<void>; run?: boolean } = {}): Promise<void> {
    // Ids are deterministic so a repeated add (e.g. a retried end path) does not duplicate steps.
    await Promise.all(steps.map((s, i) => this.outbox.put(`${s.callId}:${i}:${s.kind}`, s)));
    for (const a of new Set(steps.map((s) => s.agentId))) if (!this.running.has(a)) await this.supersede(a);
    await o.onDisk?.();
    if (o.run === false) return;
    const agents = new Set(steps.map((s) => s.agentId));
    for (const a of agents) this.kick(a);
  }

  /** The platform ids of the agent's calls whose disposition is still pending here. */
  pendingCalls(agentId: string): VendorCallIds[] {
    return this.outbox.pending().flatMap((e) => (e.step.agentId === agentId && e.step.kind === 'termCode' ? [e.step.ids] : []));
  }

  /** Whether a call has wrap-up steps not yet confirmed. */
  hasStepsFor(callId: string): boolean {
    return this.outbox.pending().some((e) => e.step.callId === callId);
  }

  /** After a restart: run every pending step. Returns the agents that had some. */
  replay(): string[] {
    const agents = [...new Set(this.outbox.pending().map((e) => e.step.agentId))];
    for (const a of agents) this.kick(a);
    return agents;
  }

  /** Run an agent's pending steps now (e.g. it was just signed in again), not at the parked retry. */
  retryNow(agentId: string): void {
    if (this.pendingFor(agentId) > 0) this.kick(agentId);
  }

  /** Steps not yet confirmed by the contact center, without the Readys held at the overload gate. */
  get pendingTotal(): number {
    return this.outbox.size - this.atGate.size;
  }

  /**
   * How long the oldest step has waited for the contact center, ms (0 when none): a Ready held
   * back on purpose counts from its `notBefore` or from when it left the overload gate, and not
   * while it waits there. Outbox entries carry wall-clock times.
   */
  oldestPendingMs(): number {
    const now = this.clock.wall();
    let oldest = now;
    for (const e of this.outbox.pending()) {
      if (this.atGate.has(e.id)) continue;
      const since = Math.max(e.createdAt, e.step.kind === 'ready' ? (e.step.notBefore ?? 0) : 0, this.gateLeft.get(e.id) ?? 0);
      if (since > 0 && since < oldest) oldest = since;
    }
    return now - oldest;
  }

  pendingFor(agentId: string): number {
    return this.outbox.pending().filter((e) => e.step.agentId === agentId).length;
  }

  private kick(agentId: string): void {
    if (this.stopped || this.running.has(agentId)) return;
    const t = this.parked.get(agentId);
    if (t) {
      t.cancel();
      this.parked.delete(agentId);
    }
    this.running.add(agentId);
    void this.run(agentId).finally(() => this.running.delete(agentId));
  }

  /**
   * A bare Ready left by an earlier call (its other steps done) while a later plan for the agent
   * (a disposition, then its own Ready) is pending: the bare one goes. Run first it would be
   * refused, the platform holding the agent in the later call's wrap-up; the later Ready serves.
   */
  private async supersede(agentId: string): Promise<void> {
    const mine = this.outbox.pending().filter((e) => e.step.agentId === agentId);
    const withSteps = new Set(mine.filter((e) => e.step.kind !== 'ready').map((e) => e.step.callId));
    const later = mine.some((e) => e.step.kind === 'ready' && withSteps.has(e.step.callId));
    if (!later) return;
    for (const e of mine) {
      if (e.step.kind === 'ready' && !withSteps.has(e.step.callId)) {
        this.log.info({ callId: e.step.callId, agent: agentId }, 'a Ready left by an earlier call is superseded by a later wrap-up\'s');
        await this.outbox.done(e.id);
      }
    }
  }

  private async run(agentId: string): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      await this.supersede(agentId);
      const next = firstOf(this.outbox.pending().filter((e) => e.step.agentId === agentId));
      if (!next) return;
      const ok = await this.attempt(next.id, next.step);
      if (!ok) return;
    }
  }

  private async attempt(id: string, step: WrapStep): Promise<boolean> {
    const log = this.log.child({ callId: step.callId, agent: step.agentId, step: step.kind });
    // A Ready held back (overload's Retry-After): the platform routes this agent no call until then.
    // Bounded, so a clock jump or a stale journal entry cannot keep an agent out for long.
    if (step.kind === 'ready' && step.notBefore !== undefined) {
      const wait = Math.min(MAX_READY_DELAY_MS, step.notBefore - this.clock.wall());
      if (wait > 0) await sleep(this.clock, wait);
    }
    // Under overload a Ready waits for room (the call manager's Ready gate, ./ready-gate.ts). A
    // Ready held there is held on purpose: it is not "waiting for the contact center" (the
    // wrap-up age and pending signals would otherwise shed calls because the gate holds Readys).
    if (step.kind === 'ready' && this.readyGate) {
      this.atGate.add(id);
      try {
        await this.readyGate();
      } finally {
        this.atGate.delete(id);
      }
      this.gateLeft.set(id, this.clock.wall());
    }
    try {
      return await this.send(id, step, log);
    } finally {
      this.gateLeft.delete(id);
    }
  }

  private async send(id: string, step: WrapStep, log: Logger): Promise<boolean> {
    if (this.stopped) return false;
    if (this.hooks.mayAct && !(await this.hooks.mayAct(step.agentId).catch(() => false))) {
      this.stats.fenced++;
      log.warn('wrap-up step held: this node does not hold the agent\'s lease (fencing)');
      return false;
    }
    for (let n = 1; n <= this.opts.maxAttempts && !this.stopped; n++) {
      try {
        const adapter = this.adapterFor(step.agentId);
        if (!adapter) throw new VendorError(`no contact-center adapter for agent ${step.agentId}`, 'wrap-up', false);
        // The contact center may route the next call the instant it has the agent Ready, before
        // its answer reaches us: the agent must already take calls when we ask for Ready.
        if (step.kind === 'ready') this.hooks.ready(step.agentId, step.callId);
        await this.execute(adapter, step);
        await this.outbox.done(id);
        this.stats.confirmed++;
        log.info({ attempts: n }, 'wrap-up step confirmed');
        return true;
      } catch (e) {
        const retryable = !(e instanceof VendorError) || e.retryable;
        log.warn({ attempt: n, err: (e as Error).message, retryable }, 'wrap-up step failed');
        if (!retryable && step.kind === 'termCode') {
          const r = await this.reconcile(step, (e as Error).message, log);
          if (r === 'hold') return this.giveUp(id, step, `term code refused and the contact center still has the agent on the call: ${(e as Error).message}`);
          await this.outbox.done(id);
          if (r === 'set') this.stats.reconciled++;
          else this.stats.rejected++;
          return true;
        }
        if (!retryable && step.kind === 'ready' && (await this.readyTookEffect(step, (e as Error).message, log))) {
          await this.outbox.done(id);
          this.stats.reconciled++;
          return true;
        }
        if (!retryable && step.kind !== 'ready') {
          // Refused for good (e.g. a term code for a call the contact center never routed to
          // this agent): retrying cannot succeed and must not keep the agent out of service.
          // It is reported, and the agent's next step (Ready) goes ahead.
          this.stats.rejected++;
          log.error({ err: (e as Error).message }, 'wrap-up step refused by the contact center: reported and skipped');
          await this.outbox.done(id);
          return true;
        }
        // A Ready the platform refused leaves the agent out of service there already; a NotReady
        // on top would take it out of a wrap-up (of a call nobody here has) it must keep.
        if (!retryable || n === this.opts.maxAttempts) return this.giveUp(id, step, (e as Error).message, !(step.kind === 'ready' && !retryable));
        this.stats.retries++;
        await sleep(this.clock, backoffMs(n - 1, this.opts.retryMs, 30_000));
      }
    }
    return false;
  }

  /**
   * A term code the contact center refused: read the agent's status before anything else. The
   * platform not holding the agent on a call (it never routed ours, or wrapped it up itself) lets
   * the wrap-up go on to Ready (`skip`). Holding it on this call with ids that complete ours: the
   * term code is set again with them (`set`). Otherwise the agent must not be made Ready while the
   * platform still has it on the call (`hold`): it is parked, reported, and retried later.
   */
  private async reconcile(step: Extract<WrapStep, { kind: 'termCode' }>, refusal: string, log: Logger): Promise<'set' | 'skip' | 'hold'> {
    const adapter = this.adapterFor(step.agentId)!;
    let st: Awaited<ReturnType<VendorAdapter['status']>>;
    try {
      st = await adapter.status(step.agentId);
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'term code refused and agent status unreadable: agent held out of service');
      return 'hold';
    }
    if (st.state !== 'in-call' && st.state !== 'wrap-up') {
      log.error({ err: refusal, platformState: st.state }, 'term code refused; the contact center does not hold the agent on a call: reported, agent back to Ready');
      return 'skip';
    }
    const theirs = st.call;
    // Only the same call (or ours without an id): never a term code on a call that is not ours.
    const same = theirs && (!step.ids.transactionId || theirs.transactionId === step.ids.transactionId);
    const fills = same && Object.entries(theirs).some(([k, v]) => v !== undefined && step.ids[k] !== v);
    if (same && fills) {
      const ids = { ...step.ids, ...theirs };
      try {
        await adapter.setTermCode(step.agentId, ids, step.termCode);
        log.warn({ was: step.ids, now: ids }, 'term code refused, then set with the ids of the agent status');
        return 'set';
      } catch (e) {
        log.error({ err: (e as Error).message }, 'term code refused again with the ids of the agent status');
      }
    }
    log.error({ err: refusal, platformState: st.state, platformCall: theirs?.transactionId }, 'term code refused while the contact center holds the agent on the call: agent kept out of service');
    return 'hold';
  }

  /**
   * A Ready refused: an earlier attempt that timed out may have reached the platform, which has
   * the agent Ready (or on its next call) already. Its status decides; an agent the platform
   * still holds in wrap-up stays out of service.
   */
  private async readyTookEffect(step: WrapStep, refusal: string, log: Logger): Promise<boolean> {
    try {
      const st = await this.adapterFor(step.agentId)!.status(step.agentId);
      if (st.state !== 'ready' && st.state !== 'in-call') return false;
      log.warn({ err: refusal, platformState: st.state }, 'Ready refused, but the contact center has the agent taking calls: an earlier attempt took effect');
      return true;
    } catch {
      return false;
    }
  }

  private execute(adapter: VendorAdapter, s: WrapStep): Promise<void> {
    switch (s.kind) {
      case 'termCode':
        return adapter.setTermCode(s.agentId, s.ids, s.termCode);
      case 'contact':
        return adapter.updateContact(s.agentId, s.account, s.fields);
      case 'ready':
        return adapter.ready(s.agentId);
    }
  }

  /** Park the agent: NotReady (best effort), reported, steps kept; retried after `parkMs`. */
  private giveUp(_id: string, step: WrapStep, error: string, notReady = true): false {
    this.stats.failures++;
    this.log.error({ callId: step.callId, agent: step.agentId, step: step.kind, err: error }, `wrap-up keeps failing: agent ${notReady ? 'set NotReady' : 'out of service'}, steps kept in the outbox`);
    if (notReady) void this.adapterFor(step.agentId)?.notReady(step.agentId, 'wrap-up failed').catch(() => undefined);
    this.hooks.failed(step.agentId, step.callId, error);
    const t = this.clock.set(this.opts.parkMs ?? 60_000, () => {
      this.parked.delete(step.agentId);
      this.kick(step.agentId);
    });
    this.parked.set(step.agentId, t);
    return false;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.parked.values()) t.cancel();
    this.parked.clear();
  }
}
