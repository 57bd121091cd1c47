/**
 * Process wiring of the cluster (issue 13): with `cluster:` in gateway.yaml this node joins the
 * others in Redis (src/cluster/node.ts). Every agent starts as another node's; an agent becomes
 * this node's when it gets the agent's lease (the lifecycle then signs it in and the router takes
 * its calls), and stops being this node's when the lease is lost or given to another node (the
 * router answers 503 so Kamailio tries the next node; nothing is sent to the platform for it from
 * here: wrap-up steps are fenced by the lease). Without `cluster:` nothing here runs.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AgentPool } from './agents/pool.js';
import { ClusterNode } from './cluster/node.js';
import type { GatewayConfig } from './config/types.js';
import type { ContactCenters } from './contact-center.js';

export interface RunningCluster {
  node: ClusterNode;
  nodeId: string;
  stop(): Promise<void>;
}

/** Before the contact centers start: every agent is another node's until its lease says otherwise. */
export function holdAgentsForCluster(config: GatewayConfig, pool: AgentPool): void {
  if (!config.cluster) return;
  for (const a of pool.list()) pool.setOwned(a.id, false);
}

export async function startCluster(config: GatewayConfig, pool: AgentPool, cc: ContactCenters, o: { httpPort: number; sipPorts: Record<string, number>; log: Logger }): Promise<RunningCluster | undefined> {
  const cfg = config.cluster;
  if (!cfg) return undefined;
  const log = o.log.child({ component: 'cluster' });
  const first = config.profiles[0]!;
  const nodeId = cfg.nodeId ?? `${hostname()}:${o.httpPort}`;
  const sipAddress = cfg.sipAddress ?? `${first.listen.advertisedHost}:${o.sipPorts[first.name] ?? first.listen.port}`;
  // Commands fail at once while Redis is down (the next tick tries again); the connection comes back by itself.
  const redis = new Redis(cfg.redis, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(2000, 50 * n), lazyConnect: false });
  let lastError = '';
  redis.on('error', (e: Error) => {
    if (e.message !== lastError) log.warn({ err: e.message }, 'cluster: Redis connection error');
    lastError = e.message;
  });
  const lifecycleOf = (id: string) => cc.lifecycles.find((l) => l.states.has(id));
  const node = new ClusterNode(redis, {
    cluster: cfg.name,
    nodeId,
    sipAddress,
    agents: pool.list().map((a) => ({ id: a.id, key: a.key })),
    ttlMs: cfg.leaseTtlMs,
    busy: (id) => pool.list().find((a) => a.id === id)?.state === 'busy' || (cc.wrapUp?.pendingFor(id) ?? 0) > 0,
    onGain: (id) => {
      pool.setOwned(id, true);
      lifecycleOf(id)?.ownershipChanged(id);
      cc.wrapUp?.retryNow(id);
    },
    handOver: async (id) => {
      // No call is taken here from now on; then the platform signs the agent out.
      pool.setOwned(id, false);
      await lifecycleOf(id)?.handOver(id);
    },
    onLose: (id) => {
      pool.setOwned(id, false);
      lifecycleOf(id)?.ownershipChanged(id);
    },
    log,
  });
  cc.fence = (id) => node.leases.stillHolds(id);
  node.start();
  log.info({ nodeId, sipAddress, cluster: cfg.name, leaseTtlMs: cfg.leaseTtlMs }, 'cluster: node joined');
  return {
    node,
    nodeId,
    stop: async () => {
      await node.stop().catch((e: Error) => log.warn({ err: e.message }, 'cluster: leases not given back (they run out by themselves)'));
      redis.disconnect();
    },
  };
}
