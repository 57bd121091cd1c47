/**
 * A durable outbox: an append-only JSON-lines journal, fsynced before `put`/`done` resolve.
 * A step is written here before it is attempted and marked done only when the other side
 * confirmed it, so a crash or restart loses nothing: on open, the journal is replayed and every
 * step without a `done` is pending again. Writes are group-committed (one fdatasync for all the
 * records queued meanwhile) so hundreds of wrap-ups per second cost a few syncs, not hundreds.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface OutboxEntry<T> {
  id: string;
  step: T;
  createdAt: number;
}

type Record_<T> = { t: 'put'; id: string; step: T; at: number } | { t: 'done'; id: string };

interface Pending {
  line: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** What the wrap-up runner needs of an outbox: the journal below, or `MemoryOutbox` in unit tests. */
export interface OutboxStore<T> {
  pending(): OutboxEntry<T>[];
  readonly size: number;
  /** `replace`: an id already pending takes the new step (the journal keeps the last one). */
  put(id: string, step: T, opts?: { replace?: boolean }): Promise<void>;
  done(id: string): Promise<void>;
}

/** An outbox that forgets on restart: for unit tests of the layers above it, never for the gateway. */
export class MemoryOutbox<T> implements OutboxStore<T> {
  private entries = new Map<string, OutboxEntry<T>>();
  pending(): OutboxEntry<T>[] {
    return [...this.entries.values()];
  }
  get size(): number {
    return this.entries.size;
  }
  async put(id: string, step: T, opts: { replace?: boolean } = {}): Promise<void> {
    const was = this.entries.get(id);
    if (!was || opts.replace) this.entries.set(id, { id, step, createdAt: was?.createdAt ?? 0 });
  }
  async done(id: string): Promise<void> {
    this.entries.delete(id);
  }
}

export interface OutboxOptions {
  /** Compact the journal after this many confirmations (and when they outnumber pending 4:1). */
  compactAfter?: number;
}

export class Outbox<T> implements OutboxStore<T> {
  private entries = new Map<string, OutboxEntry<T>>();
  private queue: Pending[] = [];
  private flushScheduled = false;
  private doneSinceCompact = 0;
  private closed = false;
  /**
   * Every file operation (flush, compaction, close) runs in this chain, one at a time: a flush
   * must never write to a handle a compaction is replacing, and compactions must not overlap.
   */
  private io: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private fh: FileHandle,
    private readonly compactAfter: number,
  ) {}

  private runIo<R>(fn: () => Promise<R>): Promise<R> {
    const p = this.io.then(fn);
    this.io = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Open (creating) the journal and replay it. A torn last line (crash mid-write) is ignored. */
  static async open<T>(file: string, opts: OutboxOptions = {}): Promise<Outbox<T>> {
    mkdirSync(path.dirname(file), { recursive: true });
    const entries = new Map<string, OutboxEntry<T>>();
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!line.trim()) return;
        let r: Record_<T>;
        try {
          r = JSON.parse(line) as Record_<T>;
        } catch {
          if (i >= lines.length - 2) return; // the last record was being written when we stopped
          throw new Error(`${file}:${i + 1}: corrupt outbox record`);
        }
        if (r.t === 'put') entries.set(r.id, { id: r.id, step: r.step, createdAt: r.at });
        else entries.delete(r.id);
      });
    }
    const box = new Outbox<T>(file, await open(file, 'a'), opts.compactAfter ?? 10_000);
    box.entries = entries;
    // Start from a compact journal holding only what is still pending.
    await box.runIo(() => box.compact());
    return box;
  }

  /** Steps not yet confirmed, in the order they were put. */
  pending(): OutboxEntry<T>[] {
    return [...this.entries.values()];
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Durably record a step (idempotent for an id already pending, unless `replace`). */
  async put(id: string, step: T, opts: { replace?: boolean } = {}): Promise<void> {
    const was = this.entries.get(id);
    if (was && !opts.replace) return;
    const entry = { id, step, createdAt: was?.createdAt ?? Date.now() };
    this.entries.set(id, entry);
    await this.write({ t: 'put', id, step, at: entry.createdAt });
  }

  /** Durably mark a step confirmed. */
  async done(id: string): Promise<void> {
    if (!this.entries.delete(id)) return;
    await this.write({ t: 'done', id });
    if (++this.doneSinceCompact > this.compactAfter && this.doneSinceCompact > 4 * this.entries.size) {
      // Reset before awaiting so concurrent confirmations do not start a second compaction.
      this.doneSinceCompact = 0;
      await this.runIo(() => this.compact());
    }
  }

  private write(r: Record_<T>): Promise<void> {
    if (this.closed) return Promise.reject(new Error('outbox is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ line: JSON.stringify(r) + '\n', resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        void this.runIo(() => this.flush());
      }
    });
  }

  /** One group commit: everything queued until now, one write, one fdatasync. */
  private async flush(): Promise<void> {
    // Records queued while this flush runs schedule the next one (still one sync for all of them).
    this.flushScheduled = false;
    const batch = this.queue.splice(0);
    if (!batch.length) return;
    try {
      await this.fh.write(batch.map((p) => p.line).join(''));
      await this.fh.datasync();
      for (const p of batch) p.resolve();
    } catch (e) {
      for (const p of batch) p.reject(e as Error);
    }
  }

  /** Rewrite the journal with only the pending steps (write, fsync, atomic rename). */
  private async compact(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      for (const e of this.entries.values()) writeSync(fd, JSON.stringify({ t: 'put', id: e.id, step: e.step, at: e.createdAt }) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await this.fh.close();
    renameSync(tmp, this.file);
    // The rename itself must survive a crash: sync the directory entry.
    const dir = openSync(path.dirname(this.file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.fh = await open(this.file, 'a');
    this.doneSinceCompact = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.runIo(() => this.fh.close());
  }
}
