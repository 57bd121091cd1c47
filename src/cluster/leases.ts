/**
 * Agent ownership across gateway nodes as Redis leases with fencing tokens (issue 13). Exactly one
 * node may keep a virtual agent signed in and take its calls: the one holding `lease:<agent>`,
 * whose value is `<node>|<token>` with a TTL the holder renews. Each acquisition takes the next
 * token from `fence:<agent>` (INCR), so a node that lost its lease (paused, partitioned, killed
 * and restarted) holds a token that is no longer the current one, and `stillHolds` tells it
 * before it sends Ready or a term code for that agent. Every step is one Lua script: atomic in
 * Redis, no read-then-write race between nodes.
 */
import type { Redis } from 'ioredis';

const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  if string.sub(cur, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(cur, string.len(ARGV[1]) + 2))
  end
  return false
end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. t, 'PX', ARGV[2])
return t`;

/** Renew when still ours (value equal); 1 renewed, 0 lost. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** Delete when still ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface LeaseOptions {
  /** Key prefix of the cluster, e.g. `vagw:prod:`. */
  prefix: string;
  nodeId: string;
  ttlMs: number;
}

export class AgentLeases {
  /** Agents this node holds, with the fencing token of its lease. */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly o: LeaseOptions,
  ) {
    if (o.nodeId.includes('|')) throw new Error(`cluster node id '${o.nodeId}' must not contain '|'`);
  }

  private key(agentId: string): string {
    return `${this.o.prefix}lease:${agentId}`;
  }

  private value(agentId: string): string | undefined {
    const t = this.held.get(agentId);
    return t === undefined ? undefined : `${this.o.nodeId}|${t}`;
  }

  tokenOf(agentId: string): number | undefined {
    return this.held.get(agentId);
  }

  owned(): string[] {
    return [...this.held.keys()];
  }

  /** Take the agent's lease if it is free (or already ours): its fencing token, else undefined. */
  async acquire(agentId: string): Promise<number | undefined> {
    const r = (await this.redis.eval(ACQUIRE, 2, this.key(agentId), `${this.o.prefix}fence:${agentId}`, this.o.nodeId, String(this.o.ttlMs))) as number | null;
    if (r === null) {
      this.held.delete(agentId);
      return undefined;
    }
    this.held.set(agentId, r);
    return r;
  }

  /** Renew every lease held, in one round trip; returns the agents whose lease was lost. */
  async renewAll(): Promise<string[]> {
    const agents = this.owned();
    if (agents.length === 0) return [];
    const p = this.redis.pipeline();
    for (const a of agents) p.eval(RENEW, 1, this.key(a), this.value(a)!, String(this.o.ttlMs));
    const res = (await p.exec()) ?? [];
    const lost: string[] = [];
    agents.forEach((a, i) => {
      const [err, v] = res[i] ?? [new Error('no reply'), 0];
      // A failed renewal is not a lost lease yet: it is tried again until the TTL tells.
      if (!err && v === 0) lost.push(a);
    });
    for (const a of lost) this.held.delete(a);
    return lost;
  }

  /** Give the lease back; until Redis confirmed, it stays held (and renewed). */
  async release(agentId: string): Promise<void> {
    const v = this.value(agentId);
    if (v) await this.redis.eval(RELEASE, 1, this.key(agentId), v);
    this.held.delete(agentId);
  }

  /**
   * The fencing check before a contact-center action for the agent: true only while the lease in
   * Redis is still the one this node acquired (same node, same token).
   */
  async stillHolds(agentId: string): Promise<boolean> {
    const v = this.value(agentId);
    return v !== undefined && (await this.redis.get(this.key(agentId))) === v;
  }

  /** Who holds the agent now: node and token, or undefined when free. */
  async holder(agentId: string): Promise<{ nodeId: string; token: number } | undefined> {
    const v = await this.redis.get(this.key(agentId));
    if (!v) return undefined;
    const i = v.lastIndexOf('|');
    return { nodeId: v.slice(0, i), token: Number(v.slice(i + 1)) };
  }
}
