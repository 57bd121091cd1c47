/**
 * The durable outbox in Redis, for a gateway in a cluster (issue 13): what a node owes the
 * contact center for an agent (wrap-up steps, calls answered and not yet wrapped up) lives where
 * the agent's next owner can read it when this node dies. One hash per agent and kind,
 * `vagw:<cluster>:<kind>:<agent>`, field = entry id, value = the entry as JSON with the process
 * that wrote it. Redis runs with AOF and `appendfsync always` (deploy/redis), so a write Redis
 * confirmed survives a Redis restart as the file journal survives ours.
 *
 * Reads are served from a mirror of the entries this process has written or loaded (the runner
 * asks for `pending()` on every step); `load(agent)` replaces an agent's part of the mirror with
 * what Redis holds when the agent becomes this node's. Writes are confirmed by Redis before they
 * resolve and are retried while Redis is away: nothing owed is dropped because Redis restarted.
 *
 * Why hashes and not streams: an entry is replaced (an open call's ids resolved) and removed by
 * id when the platform confirmed it; a hash does both in one command, a stream would need XDEL
 * and a scan of the whole stream to find the live entries.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { OutboxEntry, OutboxStore } from '../store/outbox.js';
import { backoffMs, realClock, sleep, type Clock } from '../util/clock.js';

interface Stored<T> {
  step: T;
  at: number;
  /** The process (node id + start) that wrote it: another one's entries are inherited. */
  by: string;
}

export class RedisOutbox<T extends { agentId: string }> implements OutboxStore<T> {
  private mirror = new Map<string, { agentId: string; entry: OutboxEntry<T>; by: string }>();
  private closed = false;
  /** Writes not yet confirmed by Redis (close waits for them, bounded). */
  private inFlight = new Set<Promise<void>>();
  /** Entries whose put Redis has not confirmed yet: a load must not drop them from the mirror. */
  private writing = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** This process: node id and start time (a restarted node inherits its own earlier entries). */
    readonly incarnation: string,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {}

  private key(agentId: string): string {
    return `${this.prefix}:${agentId}`;
  }

  pending(): OutboxEntry<T>[] {
    return [...this.mirror.values()].map((m) => m.entry);
  }

  get size(): number {
    return this.mirror.size;
  }

  /** Entries of `agentId` another process wrote (loaded with `load`): what a dead owner left. */
  inherited(agentId: string): OutboxEntry<T>[] {
    return [...this.mirror.values()].filter((m) => m.agentId === agentId && m.by !== this.incarnation).map((m) => m.entry);
  }

  async put(id: string, step: T, opts: { replace?: boolean } = {}): Promise<void> {
    const was = this.mirror.get(id);
    if (was && !opts.replace) return;
    const stored: Stored<T> = { step, at: was?.entry.createdAt ?? this.clock.wall(), by: this.incarnation };
    this.mirror.set(id, { agentId: step.agentId, entry: { id, step, createdAt: stored.at }, by: this.incarnation });
    this.writing.add(id);
    try {
      await this.write(`put ${id}`, () => this.redis.hset(this.key(step.agentId), id, JSON.stringify(stored)));
    } finally {
      this.writing.delete(id);
    }
  }

  async done(id: string): Promise<void> {
    const was = this.mirror.get(id);
    if (!was) return;
    this.mirror.delete(id);
    await this.write(`done ${id}`, () => this.redis.hdel(this.key(was.agentId), id));
  }

  /**
   * The agent became this node's: its entries as Redis has them (a dead owner's included) replace
   * what the mirror held for it. Throws when Redis cannot be read (the caller tries again).
   */
  async load(agentId: string): Promise<number> {
    const all = await this.redis.hgetall(this.key(agentId));
    this.forget(agentId);
    for (const [id, raw] of Object.entries(all)) {
      try {
        const s = JSON.parse(raw) as Stored<T>;
        this.mirror.set(id, { agentId, entry: { id, step: s.step, createdAt: s.at }, by: s.by });
      } catch {
        this.log.error({ agent: agentId, entry: id }, 'cluster outbox: an entry in Redis is not JSON: left there, reported');
      }
    }
    return Object.keys(all).length;
  }

  /** The agent went to another node: its entries are that node's to run now (Redis keeps them). */
  forget(agentId: string): void {
    for (const [id, m] of this.mirror) if (m.agentId === agentId && !this.writing.has(id)) this.mirror.delete(id);
  }

  /** A write Redis must confirm; retried (100 ms doubling to 2 s) while Redis is away, until close. */
  private async write(what: string, fn: () => Promise<unknown>): Promise<void> {
    const p = (async () => {
      for (let n = 0; ; n++) {
        try {
          await fn();
          if (n > 0) this.log.info({ entry: what, attempts: n + 1 }, 'cluster outbox: written after Redis came back');
          return;
        } catch (e) {
          if (this.closed) throw new Error(`cluster outbox closed before Redis confirmed ${what}: ${(e as Error).message}`);
          if (n === 0) this.log.warn({ entry: what, err: (e as Error).message }, 'cluster outbox: Redis did not take the write; trying again until it does');
          await sleep(this.clock, backoffMs(n, 100, 2000));
        }
      }
    })();
    this.inFlight.add(p);
    try {
      await p;
    } finally {
      this.inFlight.delete(p);
    }
  }

  /** Waits (at most `ms`) for writes Redis has not confirmed yet, then stops retrying. */
  async close(ms = 2000): Promise<void> {
    const all = Promise.allSettled([...this.inFlight]);
    await Promise.race([all, sleep(this.clock, ms)]);
    this.closed = true;
  }
}
