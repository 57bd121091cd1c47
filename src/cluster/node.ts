/**
 * One gateway node's part in the cluster (issue 13): it announces itself (`node:<id>` with a TTL,
 * in the `nodes` set), renews its agents' leases, and converges on the agents rendezvous hashing
 * gives it among the live nodes. An agent another node should own is released only while it has
 * no call (`busy`), so a rebalance never drops a call. An agent whose owner died is taken once its
 * lease runs out. For each owned agent the SIP address the call router (Kamailio) should send its
 * INVITEs to is kept under `route:<agent key>` with the same TTL.
 *
 * Every step of a tick is bounded by Redis's answers; a tick that fails (Redis down) is logged
 * and the next one tries again. Leases are never assumed: a node that cannot renew loses its
 * agents when their TTL tells, and `onLose` says so.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AgentLeases } from './leases.js';

export interface ClusterAgent {
  id: string;
  /** The routing key of its number (the Request-URI user, normalised). */
  key: string;
}

export interface ClusterNodeOptions {
  cluster: string;
  nodeId: string;
  /** host:port where this node takes SIP (the route Kamailio uses for its agents). */
  sipAddress: string;
  /** Where the other nodes reach this node's REST API (host:port): cluster-wide /calls and /agents. */
  httpAddress?: string;
  agents: ClusterAgent[];
  ttlMs: number;
  /** Whether the agent has a call (or a wrap-up) on this node: it is not given away then. */
  busy(agentId: string): boolean;
  onGain(agentId: string, token: number): void;
  /**
   * Before the lease is given to another node (rebalance, stop): hand the agent over at the
   * platform. False: not now (the lease is kept and the move tried again at a later tick);
   * `force` (stopping): it must go.
   */
  handOver?(agentId: string, force: boolean): Promise<boolean>;
  onLose(agentId: string, why: 'lease lost' | 'rebalanced' | 'stopped'): void;
  log: Logger;
}

/** Rendezvous (highest random weight) hashing: the node that scores highest for the agent. */
export function ownerOf(agentId: string, nodes: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const n of nodes) {
    const score = createHash('sha1').update(`${agentId}\u0000${n}`).digest().readBigUInt64BE(0);
    if (score > bestScore || (score === bestScore && best !== undefined && n < best)) {
      best = n;
      bestScore = score;
    }
  }
  return best;
}

/** Delete a route key only while it still names this node (another may have written its own). */
const DEL_IF_MINE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export class ClusterNode {
  readonly leases: AgentLeases;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void>[] = [];
  private stopped = false;
  private readonly prefix: string;
  /** Agents handed over at the platform whose lease release has not gone through yet. */
  private readonly handedOver = new Set<string>();
  readonly stats = { ticks: 0, tickFailures: 0, gained: 0, lost: 0, released: 0 };
  private readonly keyOf: Map<string, string>;

  constructor(
    private readonly redis: Redis,
    private readonly o: ClusterNodeOptions,
  ) {
    this.prefix = `vagw:${o.cluster}:`;
    this.keyOf = new Map(o.agents.map((a) => [a.id, a.key]));
    this.leases = new AgentLeases(redis, { prefix: this.prefix, nodeId: o.nodeId, ttlMs: o.ttlMs });
  }

  /**
   * Two loops, each every TTL/3: the heartbeat (membership, lease renewal, route keys) and the
   * balancing (take agents, hand agents over). Renewal never waits behind a handover, whose
   * platform requests may take seconds on a loaded machine: a lease is lost only when this node
   * really stopped renewing it.
   */
  start(): void {
    const every = Math.max(50, Math.floor(this.o.ttlMs / 3));
    const loop = (slot: number, step: () => Promise<void>, what: string): void => {
      if (this.stopped) return;
      this.running[slot] = step()
        .catch((e: Error) => {
          this.stats.tickFailures++;
          this.o.log.warn({ err: e.message }, `cluster: ${what} failed (Redis unreachable?); trying again`);
        })
        .finally(() => {
          if (!this.stopped) this.timers[slot] = setTimeout(() => loop(slot, step, what), every);
        });
    };
    loop(0, () => this.beat(), 'heartbeat');
    loop(1, () => this.balance(), 'balancing');
  }

  /** The live nodes: announced and not expired. */
  async liveNodes(): Promise<string[]> {
    const members = await this.redis.smembers(`${this.prefix}nodes`);
    if (members.length === 0) return [];
    const alive = await this.redis.mget(...members.map((m) => `${this.prefix}node:${m}`));
    const dead = members.filter((_, i) => alive[i] === null);
    if (dead.length) await this.redis.srem(`${this.prefix}nodes`, ...dead);
    return members.filter((_, i) => alive[i] !== null).sort();
  }

  /** The other live nodes and where their REST APIs listen (those that announced one). */
  async peers(): Promise<{ id: string; http: string }[]> {
    const ids = (await this.liveNodes()).filter((id) => id !== this.o.nodeId);
    if (ids.length === 0) return [];
    const recs = await this.redis.mget(...ids.map((id) => `${this.prefix}node:${id}`));
    const out: { id: string; http: string }[] = [];
    ids.forEach((id, i) => {
      try {
        const http = (JSON.parse(recs[i] ?? 'null') as { http?: unknown } | null)?.http;
        if (typeof http === 'string') out.push({ id, http });
      } catch {
        // A record this version cannot read: that node is left out of the cluster-wide view.
      }
    });
    return out;
  }

  /** One heartbeat and one balancing pass (tests drive a node with it). */
  async tick(): Promise<void> {
    await this.beat();
    await this.balance();
  }

  /** This node alive, its leases renewed, Kamailio's route keys for its agents refreshed. */
  async beat(): Promise<void> {
    this.stats.ticks++;
    const ttl = String(this.o.ttlMs);
    await this.redis.multi().set(`${this.prefix}node:${this.o.nodeId}`, JSON.stringify({ sip: this.o.sipAddress, ...(this.o.httpAddress ? { http: this.o.httpAddress } : {}), at: Date.now() }), 'PX', ttl).sadd(`${this.prefix}nodes`, this.o.nodeId).exec();
    for (const a of await this.leases.renewAll()) this.lose(a, 'lease lost');
    // Where Kamailio sends each owned agent's INVITEs, kept as long as the lease.
    const owned = this.leases.owned();
    if (owned.length) {
      const p = this.redis.pipeline();
      for (const a of owned) p.set(this.routeKey(a), this.o.sipAddress, 'PX', ttl);
      await p.exec();
    }
  }

  /** Where Kamailio looks up the owner of an agent's number (deploy/kamailio/kamailio.cfg). */
  private routeKey(agentId: string): string {
    return `${this.prefix}route:${this.keyOf.get(agentId)}`;
  }

  /** Agents this node should own taken, agents another node should own handed over (when idle). */
  async balance(): Promise<void> {
    const nodes = await this.liveNodes();
    const mine = new Set(this.leases.owned());
    for (const agent of this.o.agents) {
      if (this.stopped) return;
      const want = ownerOf(agent.id, nodes) === this.o.nodeId;
      if (want && mine.has(agent.id) && this.handedOver.delete(agent.id)) {
        // Handed over, but the release failed and the node list changed back: serve it again.
        this.o.onGain(agent.id, this.leases.tokenOf(agent.id)!);
      } else if (want && !mine.has(agent.id)) {
        const token = await this.leases.acquire(agent.id);
        if (token !== undefined) {
          // Kamailio sends the agent's calls here from now on, not after the next heartbeat.
          await this.redis.set(this.routeKey(agent.id), this.o.sipAddress, 'PX', String(this.o.ttlMs));
          this.stats.gained++;
          this.o.log.info({ agent: agent.id, token }, 'cluster: agent owned by this node');
          this.o.onGain(agent.id, token);
        }
      } else if (!want && mine.has(agent.id) && !this.o.busy(agent.id) && nodes.length > 1) {
        if (!(await this.handOver(agent.id, false))) continue;
        // The heartbeat found the lease gone meanwhile: already lost, nothing to give back.
        if (!this.leases.owned().includes(agent.id)) continue;
        // Until the release is through the agent is ours in Redis but served by nobody.
        this.handedOver.add(agent.id);
        // Kamailio stops sending its calls here (a stale key would cost each call a 503 first).
        await this.redis.eval(DEL_IF_MINE, 1, this.routeKey(agent.id), this.o.sipAddress);
        await this.leases.release(agent.id);
        this.handedOver.delete(agent.id);
        this.stats.released++;
        this.lose(agent.id, 'rebalanced');
      }
    }
  }

  /** Still holding the lease: the platform is told first, so it routes the agent nothing meanwhile. */
  private async handOver(agentId: string, force: boolean): Promise<boolean> {
    if (!this.o.handOver) return true;
    return this.o.handOver(agentId, force).catch((e: Error) => {
      this.o.log.warn({ agent: agentId, err: e.message }, 'cluster: handover failed');
      return force;
    });
  }

  private lose(agentId: string, why: 'lease lost' | 'rebalanced' | 'stopped'): void {
    this.stats.lost++;
    this.o.log.warn({ agent: agentId, why }, 'cluster: agent no longer owned by this node');
    this.o.onLose(agentId, why);
  }

  /** Graceful stop: every lease given back (another node takes the agents at once), the node gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.running);
    for (const a of this.leases.owned()) {
      await this.handOver(a, true);
      await this.leases.release(a).catch(() => undefined);
      this.lose(a, 'stopped');
    }
    await this.redis.multi().del(`${this.prefix}node:${this.o.nodeId}`).srem(`${this.prefix}nodes`, this.o.nodeId).exec().catch(() => undefined);
  }

  /** As if the process died: no more ticks, nothing given back (tests of failover). */
  halt(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }
}
