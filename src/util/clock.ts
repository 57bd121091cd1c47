import { guard } from './faults.js';

/**
 * The one time source of the gateway. The SIP stack, calls, the wrap-up runner and the agent
 * lifecycle take their timers from a Clock, so unit tests drive RFC 3261 timers, answer delays,
 * retries and keep-alives with a fake clock instead of waiting for them.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (durations, timers). */
  now(): number;
  /** Wall-clock milliseconds since the epoch (open hours, records shown to people). */
  wall(): number;
  set(ms: number, fn: () => void): TimerHandle;
}

/** Exponential back-off: the wait before retry `attempt` (0 = the first), `firstMs` doubling up to `maxMs`. */
export function backoffMs(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

/** Resolves after `ms` on `clock` (a fake clock resolves it when advanced past it). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.set(ms, resolve));
}

export const realClock: Clock = {
  now: () => performance.now(),
  wall: () => Date.now(),
  set(ms, fn) {
    // Timers are callbacks of their own: a throw in one is a contained fault, not an exit.
    const t = setTimeout(guard('timer', fn), ms);
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

  /** `epoch`: the wall-clock time at t = 0. */
  constructor(private readonly epoch = Date.UTC(2026, 0, 5, 12, 0, 0)) {}

  now(): number {
    return this.t;
  }

  wall(): number {
    return this.epoch + this.t;
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

  /** Advance in steps, letting promise callbacks run between them (async code awaiting timers). */
  async run(ms: number, step = 10): Promise<void> {
    for (let done = 0; done < ms; done += step) {
      await flush();
      this.advance(Math.min(step, ms - done));
    }
    await flush();
  }

  get pending(): number {
    return this.timers.size;
  }
}

/** Let every queued promise callback run (a few macrotask-free turns). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
