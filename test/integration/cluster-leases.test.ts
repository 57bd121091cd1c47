/**
 * Agent ownership across nodes against a real Redis (Debian's redis-server, AOF with fsync
 * always), three nodes in this process on their own connections: the agents are split with
 * nobody's agent served twice; a node that dies (no renewals, nothing given back) loses its
 * agents to the others within the lease TTL, and its fencing token no longer holds; a node that
 * joins takes a share, but never an agent that has a call; Redis restarted keeps the leases.
 */
import type { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode, ownerOf } from '../../src/cluster/node.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/test-engine.js';

const log = pino({ level: process.env['VAGW_TEST_LOG'] ?? 'silent' });
// Long enough that a tick delayed by a loaded machine (files run in parallel) does not lose a lease.
const TTL = 1500;
const agents = Array.from({ length: 30 }, (_, i) => ({ id: `va-${String(i + 1).padStart(2, '0')}`, key: `189900000${String(i + 1).padStart(2, '0')}` }));
let redis: TestRedis;
let cluster = 0;
/** Per cluster: which node holds each agent by the nodes' own word, and gains while another held it. */
const holders = new Map<string, Map<string, string>>();
const doubles = new Map<string, string[]>();

interface TestNode {
  node: ClusterNode;
  /** Its own Redis connection. */
  conn: Redis;
  owned: Set<string>;
  busy: Set<string>;
  events: string[];
}

function node(id: string, name: string): TestNode {
  const conn = redis.connect();
  const t: TestNode = { conn, owned: new Set(), busy: new Set(), events: [], node: undefined as unknown as ClusterNode };
  t.node = new ClusterNode(conn, {
    cluster: name,
    nodeId: id,
    sipAddress: `127.0.0.1:${5070 + Number(id.slice(-1))}`,
    agents,
    ttlMs: TTL,
    busy: (a) => t.busy.has(a),
    onGain: (a) => {
      const h = holders.get(name) ?? new Map<string, string>();
      holders.set(name, h);
      if (h.has(a) && h.get(a) !== id) doubles.set(name, [...(doubles.get(name) ?? []), `${a}: ${id} while ${h.get(a)}`]);
      h.set(a, id);
      t.owned.add(a);
      t.events.push(`+${a}`);
    },
    onLose: (a, why) => {
      if (holders.get(name)?.get(a) === id) holders.get(name)!.delete(a);
      t.owned.delete(a);
      t.events.push(`-${a} ${why}`);
    },
    log,
  });
  return t;
}

/** Every agent owned by exactly one of these nodes. */
function partition(nodes: TestNode[]): boolean {
  return agents.every((a) => nodes.filter((n) => n.owned.has(a.id)).length === 1);
}

/** Each agent owned by the node rendezvous hashing gives it among `ids` (the split converged). */
function converged(nodes: TestNode[], ids: string[]): boolean {
  return partition(nodes) && agents.every((a) => nodes[ids.indexOf(ownerOf(a.id, ids)!)]!.owned.has(a.id));
}

/** A new cluster of these nodes, started, once their split converged. */
async function converge(ids: string[]): Promise<{ name: string; ns: TestNode[] }> {
  const name = `t${++cluster}`;
  const ns = ids.map((id) => node(id, name));
  for (const n of ns) n.node.start();
  await waitFor(() => converged(ns, ids), 5000, `the split of ${ids.join(', ')} converged`);
  return { name, ns };
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
});

describe('agent ownership in Redis (leases, fencing, failover, rebalancing)', () => {
  it('three nodes split the agents by rendezvous hashing, each agent owned once, routes written for Kamailio', async () => {
    const { name, ns } = await converge(['n1', 'n2', 'n3']);
    for (const n of ns) expect(n.owned.size).toBeGreaterThan(3);
    // Through the whole convergence no node gained an agent another node still held.
    expect(doubles.get(name) ?? []).toEqual([]);
    const ownerNow = ownerOf(agents[0]!.id, ['n1', 'n2', 'n3'])!;
    await waitFor(() => ns.every((n) => n.node.stats.ticks > 2), 3000, 'routes written');
    expect(await ns[0]!.conn.get(`vagw:${name}:route:${agents[0]!.key}`)).toBe(`127.0.0.1:${5070 + Number(ownerNow.slice(-1))}`);
    for (const n of ns) await n.node.stop();
  });

  it('a node that dies: its agents are owned again within the TTL, its fencing token no longer holds, nobody owned one twice', async () => {
    const { ns } = await converge(['n1', 'n2', 'n3']);
    const [dead, ...rest] = ns as [TestNode, TestNode, TestNode];
    const his = [...dead.owned];
    const token = dead.node.leases.tokenOf(his[0]!)!;
    expect(await dead.node.leases.stillHolds(his[0]!)).toBe(true);
    dead.node.halt();
    const t0 = Date.now();
    await waitFor(() => his.every((a) => rest.some((n) => n.owned.has(a))), 5000, 'the dead node\'s agents owned again');
    const took = Date.now() - t0;
    expect(took).toBeLessThan(TTL * 4);
    // Between them the survivors own each agent once.
    expect(agents.every((a) => rest.filter((n) => n.owned.has(a.id)).length === 1)).toBe(true);
    // The dead node still thinks it has the agent; the fence says no, and the new token is higher.
    expect(dead.owned.has(his[0]!)).toBe(true);
    expect(await dead.node.leases.stillHolds(his[0]!)).toBe(false);
    const now = await rest[0]!.node.leases.holder(his[0]!);
    expect(now!.token).toBeGreaterThan(token);
    for (const n of rest) await n.node.stop();
  });

  it('a node that joins takes a share without taking an agent that has a call; that one moves once the call is over', async () => {
    const { name, ns } = await converge(['n1', 'n2']);
    const [a, b] = ns as [TestNode, TestNode];
    // The agents n3 will want, all of them on calls at their current owners.
    const forN3 = agents.filter((x) => ownerOf(x.id, ['n1', 'n2', 'n3']) === 'n3').map((x) => x.id);
    expect(forN3.length).toBeGreaterThan(2);
    const onCall = forN3[0]!;
    for (const n of [a, b]) if (n.owned.has(onCall)) n.busy.add(onCall);
    const c = node('n3', name);
    c.node.start();
    await waitFor(() => forN3.filter((x) => x !== onCall).every((x) => c.owned.has(x)), 5000, 'n3 takes its share');
    expect(c.owned.has(onCall)).toBe(false);
    expect(partition([a, b, c])).toBe(true);
    for (const n of [a, b]) n.busy.delete(onCall);
    await waitFor(() => c.owned.has(onCall), 5000, 'the agent moves once its call is over');
    expect(partition([a, b, c])).toBe(true);
    expect(doubles.get(name) ?? []).toEqual([]);
    for (const n of [a, b, c]) await n.node.stop();
  });

  it('Redis restarted (AOF): the leases and fencing counters survive; the owners keep their agents', async () => {
    // Converged, not only partitioned: a rebalance after this point would take new tokens.
    const [a, b] = (await converge(['n1', 'n2'])).ns as [TestNode, TestNode];
    const before = new Map(agents.map((x) => [x.id, a.node.leases.tokenOf(x.id) ?? b.node.leases.tokenOf(x.id)]));
    await redis.stop();
    await redis.start();
    // The nodes reconnect and renew; the same owners, the same tokens.
    await waitFor(() => a.node.stats.ticks > 3 && b.node.stats.ticks > 3, 5000, 'ticks');
    await new Promise((r) => setTimeout(r, TTL));
    expect(partition([a, b])).toBe(true);
    for (const x of agents) expect(a.node.leases.tokenOf(x.id) ?? b.node.leases.tokenOf(x.id)).toBe(before.get(x.id));
    for (const n of [a, b]) await n.node.stop();
  });

  it('a lease release that fails (Redis error) is tried again: the agent is neither lost nor served twice', async () => {
    const { name, ns } = await converge(['n1', 'n2']);
    const [a, b] = ns as [TestNode, TestNode];
    // n1's next release fails once, as if Redis dropped the connection at that moment.
    const conn = a.conn;
    const real = conn.eval.bind(conn) as (...args: unknown[]) => Promise<unknown>;
    let failed = 0;
    (conn as unknown as { eval: (...args: unknown[]) => Promise<unknown> }).eval = async (...args: unknown[]) => {
      if (failed === 0 && String(args[0]).includes("'DEL'")) {
        failed++;
        throw new Error('Connection is closed.');
      }
      return real(...args);
    };
    const c = node('n3', name);
    c.node.start();
    await waitFor(() => converged([a, b, c], ['n1', 'n2', 'n3']), 8000, 'three-node split converged after the failed release');
    expect(failed).toBe(1);
    expect(a.node.stats.tickFailures).toBeGreaterThanOrEqual(1);
    expect(doubles.get(name) ?? []).toEqual([]);
    for (const n of [a, b, c]) await n.node.stop();
  });
});

