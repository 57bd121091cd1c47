/**
 * Process wiring of the cluster (issue 13): with `cluster:` in gateway.yaml this node joins the
 * others in Redis (src/cluster/node.ts). Every agent starts as another node's; an agent becomes
 * this node's when it gets the agent's lease (the lifecycle then signs it in and the router takes
 * its calls), and stops being this node's when the lease is lost or given to another node (the
 * router answers 503 so Kamailio tries the next node; nothing is sent to the platform for it from
 * here: wrap-up steps are fenced by the lease). Without `cluster:` nothing here runs.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AgentPool } from './agents/pool.js';
import type { OpenCall } from './call/open-calls.js';
import type { WrapStep } from './call/wrapup.js';
import type { ClusterPeers } from './api/cluster-control.js';
import { ClusterNode } from './cluster/node.js';
import { RedisOutbox } from './cluster/outbox.js';
import { backoffMs } from './util/clock.js';
import type { GatewayConfig } from './config/types.js';
import { recoverOpenCalls, type ContactCenters } from './contact-center.js';

export interface RunningCluster {
  node: ClusterNode;
  nodeId: string;
  /** The other nodes' REST APIs (cluster-wide /calls and /agents). */
  peers: ClusterPeers;
  /** Leases given back (after the drain). */
  stop(): Promise<void>;
  /** The Redis connection closed (after the contact centers closed their outboxes). */
  disconnect(): void;
}

/** The Redis side of a cluster node, made before the contact centers start (they keep their outbox there). */
export interface ClusterStore {
  redis: Redis;
  wrapUp: RedisOutbox<WrapStep>;
  openCalls: RedisOutbox<OpenCall>;
}

export function connectCluster(config: GatewayConfig, log: Logger): ClusterStore | undefined {
  const cfg = config.cluster;
  if (!cfg) return undefined;
  const clog = log.child({ component: 'cluster' });
  // Commands fail at once while Redis is down (the caller tries again); the connection comes back by itself.
  const redis = new Redis(cfg.redis, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(2000, 50 * n), lazyConnect: false });
  let lastError = '';
  redis.on('error', (e: Error) => {
    if (e.message !== lastError) clog.warn({ err: e.message }, 'cluster: Redis connection error');
    lastError = e.message;
  });
  // This process, not only this node id: a node restarted under the same id inherits what its
  // earlier run left like any other node would.
  const incarnation = `${cfg.nodeId ?? hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const prefix = `vagw:${cfg.name}`;
  return {
    redis,
    wrapUp: new RedisOutbox<WrapStep>(redis, `${prefix}:wrapup`, incarnation, clog),
    openCalls: new RedisOutbox<OpenCall>(redis, `${prefix}:open`, incarnation, clog),
  };
}

/** Before the contact centers start: every agent is another node's until its lease says otherwise. */
export function holdAgentsForCluster(config: GatewayConfig, pool: AgentPool): void {
  if (!config.cluster) return;
  for (const a of pool.list()) pool.setOwned(a.id, false);
}

export async function startCluster(config: GatewayConfig, store: ClusterStore | undefined, pool: AgentPool, cc: ContactCenters, o: { httpPort: number; sipPorts: Record<string, number>; log: Logger }): Promise<RunningCluster | undefined> {
  const cfg = config.cluster;
  if (!cfg || !store) return undefined;
  const { redis, wrapUp, openCalls } = store;
  const log = o.log.child({ component: 'cluster' });
  const first = config.profiles[0]!;
  const nodeId = cfg.nodeId ?? `${hostname()}:${o.httpPort}`;
  const sipAddress = cfg.sipAddress ?? `${first.listen.advertisedHost}:${o.sipPorts[first.name] ?? first.listen.port}`;
  // The REST API as the other nodes reach it: the HTTP host unless it is a wildcard, then the SIP address's host.
  const httpHost = ['0.0.0.0', '::', ''].includes(config.gateway.http.host) ? sipAddress.replace(/:\d+$/, '') : config.gateway.http.host;
  const httpAddress = cfg.httpAddress ?? `${httpHost}:${o.httpPort}`;
  const node = new ClusterNode(redis, {
    cluster: cfg.name,
    nodeId,
    sipAddress,
    httpAddress,
    agents: pool.list().map((a) => ({ id: a.id, key: a.key })),
    ttlMs: cfg.leaseTtlMs,
    busy: (id) => pool.list().find((a) => a.id === id)?.state === 'busy' || (cc.wrapUp?.pendingFor(id) ?? 0) > 0,
    onGain: (id) => void takeOver(id),
    handOver: async (id, force) => {
      // The platform first (NotReady: it routes the agent nothing more), then no call is taken
      // here. Refused (a call was just routed to it): the agent stays, its call is taken here.
      const lc = cc.lifecycleOf(id);
      const ok = lc ? await lc.handOver(id, force) : true;
      if (ok) pool.setOwned(id, false);
      return ok;
    },
    onLose: (id) => {
      pool.setOwned(id, false);
      // Its outbox entries stay in Redis for the next owner; this node's view of them is dropped.
      wrapUp.forget(id);
      openCalls.forget(id);
      cc.lifecycleOf(id)?.ownershipChanged(id);
    },
    log,
  });
  /**
   * An agent became this node's: what its earlier owner left in Redis is read first (wrap-up
   * steps to replay; calls that died with it, wrapped up as failed), then the agent is served
   * (its lifecycle signs it in and, with steps pending, runs them before Ready). Read again while
   * Redis does not answer, as long as the lease is ours.
   */
  async function takeOver(id: string): Promise<void> {
    for (let n = 0; node.leases.owned().includes(id); n++) {
      try {
        const steps = await wrapUp.load(id);
        await openCalls.load(id);
        const dead = openCalls.inherited(id);
        if (dead.length) await recoverOpenCalls(cc, log, dead);
        if (steps || dead.length) log.warn({ agent: id, wrapUpSteps: steps, openCalls: dead.length }, 'cluster: took over what the agent\'s earlier owner left');
        pool.setOwned(id, true);
        // Steps pending run once the lifecycle has signed the agent in (they need its session).
        cc.lifecycleOf(id)?.ownershipChanged(id);
        return;
      } catch (e) {
        if (n === 0) log.warn({ agent: id, err: (e as Error).message }, 'cluster: reading the agent\'s outbox from Redis failed; trying again');
        await new Promise((r) => setTimeout(r, backoffMs(n, 100, 2000)));
      }
    }
  }
  cc.fence = (id) => node.leases.stillHolds(id);
  node.start();
  log.info({ nodeId, sipAddress, httpAddress, cluster: cfg.name, leaseTtlMs: cfg.leaseTtlMs }, 'cluster: node joined');
  return {
    node,
    nodeId,
    peers: { self: nodeId, peers: () => node.peers() },
    stop: async () => {
      await node.stop().catch((e: Error) => log.warn({ err: e.message }, 'cluster: leases not given back (they run out by themselves)'));
    },
    disconnect: () => redis.disconnect(),
  };
}
