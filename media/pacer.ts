/**
 * Drift-free 20 ms pacing for every session of a worker with one timer. Each session has its own
 * schedule `origin + k * period` on the monotonic clock (never "last tick + period", which drifts
 * by the timer's lateness every tick). Sessions get phases spread over the period so one worker
 * does not send all its packets in one burst. A session that fell far behind (the event loop was
 * blocked) skips the missed slots rather than bursting to catch up.
 */
export interface Paced {
  /** Called once per period; `dueMs` is the ideal time of this slot, `nowMs` the actual time. */
  tick(dueMs: number, nowMs: number): void;
}

interface Entry {
  item: Paced;
  next: number;
}

export interface PacerStats {
  ticks: number;
  /** Lateness of each tick relative to its slot (ms), for the pacing-jitter figures. */
  lateness: number[];
  skipped: number;
}

export class Pacer {
  private entries = new Set<Entry>();
  private timer?: NodeJS.Timeout;
  private phase = 0;
  readonly stats: PacerStats = { ticks: 0, lateness: [], skipped: 0 };
  /** Keep at most this many lateness samples (a ring is overkill for a stats window). */
  private readonly maxSamples = 100_000;

  constructor(
    private readonly periodMs = 20,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(item: Paced): () => void {
    // Spread phases 1 ms apart so packets of different sessions do not leave together.
    const offset = this.phase++ % this.periodMs;
    const e: Entry = { item, next: this.now() + offset };
    this.entries.add(e);
    this.schedule();
    return () => {
      this.entries.delete(e);
      if (this.entries.size === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  get size(): number {
    return this.entries.size;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    let earliest = Infinity;
    for (const e of this.entries) if (e.next < earliest) earliest = e.next;
    if (earliest === Infinity) {
      this.timer = undefined;
      return;
    }
    const delay = Math.max(0, earliest - this.now());
    this.timer = setTimeout(() => this.run(), delay);
  }

  private run(): void {
    this.timer = undefined;
    const now = this.now();
    // Half a millisecond early is on time: setTimeout cannot aim finer than 1 ms.
    for (const e of [...this.entries]) {
      if (e.next > now + 0.5) continue;
      const late = now - e.next;
      if (late > 5 * this.periodMs) {
        const missed = Math.floor(late / this.periodMs);
        this.stats.skipped += missed;
        e.next += missed * this.periodMs;
      }
      this.stats.ticks++;
      if (this.stats.lateness.length < this.maxSamples) this.stats.lateness.push(Math.max(0, now - e.next));
      const due = e.next;
      e.next += this.periodMs;
      try {
        e.item.tick(due, now);
      } catch {
        // One session's failure must not stop the others' pacing; the session reports itself.
      }
    }
    if (this.entries.size) this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.entries.clear();
  }
}
