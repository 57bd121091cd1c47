/**
 * Drift-free 20 ms pacing for every session of a worker with one timer. Each session has its own
 * schedule `phase + k * period` on the monotonic clock (never "last tick + period", which drifts
 * by the timer's lateness every tick). The phases sit on a 1 ms grid and each new session takes
 * the least used one, so a worker's sends are spread evenly over the period rather than leaving
 * in bursts. A session that fell far behind (the event loop was blocked) skips the missed slots
 * rather than bursting to catch up.
 *
 * A timer alone is late by however long the event loop spends in one batch of I/O callbacks;
 * `runDue` lets the I/O callbacks themselves (packets, engine frames) send what is more than
 * RESCUE_LATE_MS overdue. Only then: a tick run from inside a batch may come before its own
 * session's engine frame in the same batch, and then it sends silence and that frame waits a
 * whole period (the queue's delay grows by 20 ms for good), so the timer, which runs after the
 * batch, stays the normal way.
 */
export interface Paced {
  /** Called once per period; `dueMs` is the ideal time of this slot, `nowMs` the actual time. */
  tick(dueMs: number, nowMs: number): void;
}

interface Entry {
  item: Paced;
  next: number;
  phase: number;
}

export interface PacerStats {
  ticks: number;
  /**
   * Lateness of the ticks relative to their slots, for the pacing-jitter figures: a histogram of
   * LATENESS_BUCKET_MS buckets (the last one: that late or later). Fixed size whatever the load
   * and however long nobody reads it (see Pacer.takeLateness).
   */
  lateness: Uint32Array;
  skipped: number;
}

export const LATENESS_BUCKET_MS = 0.01;
const LATENESS_BUCKETS = 20_000; // 200 ms

/** Half a millisecond early is on time: setTimeout cannot aim finer than 1 ms. */
const EARLY_MS = 0.5;
/** How overdue a tick must be for runDue to send it from inside an I/O callback. */
export const RESCUE_LATE_MS = 2;

export class Pacer {
  private entries = new Set<Entry>();
  private timer?: NodeJS.Timeout;
  /** When the timer fires (Infinity: no timer). */
  private timerAt = Infinity;
  /** No entry is due before this (it may be earlier than the true earliest: then a run finds nothing). */
  private due = Infinity;
  private running = false;
  /** Sessions on each 1 ms phase of the period. */
  private readonly load: Uint32Array;
  private readonly origin: number;
  private windowMaxLate = 0;
  readonly stats: PacerStats = { ticks: 0, lateness: new Uint32Array(LATENESS_BUCKETS + 1), skipped: 0 };

  constructor(
    private readonly periodMs = 20,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.load = new Uint32Array(Math.max(1, Math.floor(periodMs)));
    this.origin = this.now();
  }

  add(item: Paced): () => void {
    // The least used phase (the first of equals).
    let phase = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i]! < this.load[phase]!) phase = i;
    this.load[phase]!++;
    const now = this.now();
    const k = Math.ceil((now - this.origin - phase) / this.periodMs);
    const e: Entry = { item, next: this.origin + phase + k * this.periodMs, phase };
    this.entries.add(e);
    if (e.next < this.due) this.due = e.next;
    this.schedule();
    return () => {
      if (!this.entries.delete(e)) return;
      this.load[e.phase]!--;
      if (this.entries.size === 0) this.cancel();
    };
  }

  get size(): number {
    return this.entries.size;
  }

  /** When a tick is RESCUE_LATE_MS overdue, tick everything due; cheap otherwise (one comparison). */
  runDue(now = this.now()): void {
    if (now - RESCUE_LATE_MS >= this.due && !this.running) this.run(now);
  }

  private schedule(): void {
    if (this.due === Infinity) return this.cancel();
    // A timer already set for this time (or earlier) will do.
    if (this.timer && this.timerAt <= this.due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = this.due;
    this.timer = setTimeout(this.onTimer, Math.max(0, this.due - this.now()));
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.entries.size === 0) this.due = Infinity;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.running) return;
    this.run(this.now());
  };

  private run(now: number): void {
    this.running = true;
    let due = Infinity;
    try {
      // A Set may lose entries while it is iterated (a tick can end its session).
      for (const e of this.entries) {
        if (e.next > now + EARLY_MS) {
          if (e.next < due) due = e.next;
          continue;
        }
        const late = now - e.next;
        if (late > 5 * this.periodMs) {
          const missed = Math.floor(late / this.periodMs);
          this.stats.skipped += missed;
          e.next += missed * this.periodMs;
        }
        this.stats.ticks++;
        if (now - e.next > this.windowMaxLate) this.windowMaxLate = now - e.next;
        this.stats.lateness[Math.min(LATENESS_BUCKETS, Math.floor(Math.max(0, now - e.next) / LATENESS_BUCKET_MS))]!++;
        const slot = e.next;
        e.next += this.periodMs;
        if (e.next < due) due = e.next;
        try {
          e.item.tick(slot, now);
        } catch {
          // One session's failure must not stop the others' pacing; the session reports itself.
        }
        // The ticks before took time: the next one is as late as the clock says, not as the timer did.
        now = this.now();
      }
    } finally {
      this.running = false;
    }
    this.due = due;
    this.schedule();
  }

  /** The worst tick lateness (ms) since the last call (then zeroed): the overload signal. */
  takeWindowMaxLate(): number {
    const v = this.windowMaxLate;
    this.windowMaxLate = 0;
    return v;
  }

  /** The lateness histogram since the last call (then zeroed). */
  takeLateness(): Uint32Array {
    const h = this.stats.lateness.slice();
    this.stats.lateness.fill(0);
    return h;
  }

  stop(): void {
    this.entries.clear();
    this.load.fill(0);
    this.cancel();
  }
}
