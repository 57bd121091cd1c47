import { guard } from '../util/faults.js';

/**
 * Time source for the stack. Transactions and dialogs take their timers from a Clock so that unit
 * tests drive RFC 3261 timers with a fake clock instead of waiting for them.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  set(ms: number, fn: () => void): TimerHandle;
}

export const realClock: Clock = {
  now: () => performance.now(),
  set(ms, fn) {
    // Timers are callbacks of their own: a throw in one is a contained fault, not an exit.
    const t = setTimeout(guard('sip.timer', fn), ms);
    // Protocol timers must not keep a draining process alive on their own.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Deterministic clock for tests: timers fire only when `advance` passes their due time. */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { due: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  set(ms: number, fn: () => void): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { due: this.t + Math.max(0, ms), fn });
    return { cancel: () => void this.timers.delete(id) };
  }

  /** Move time forward, firing due timers in order (timers set while firing are honoured). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { due: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].due <= end && (!next || e[1].due < next[1].due)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].due;
      next[1].fn();
    }
    this.t = end;
  }

  get pending(): number {
    return this.timers.size;
  }
}
