/**
 * Admission upstream: while the gateway is overloaded it offers its contact centers fewer agents.
 * A contact center routes calls only to Ready agents, so the Ready at the end of a wrap-up is the
 * gateway's inlet valve: held back, the customer waits in the platform's queue (where the platform
 * can serve them another way) instead of being answered late or refused with a 503 that still
 * costs an INVITE, a term code and a Ready.
 *
 * The gate caps what is "in service": calls up plus agents offered and not yet called (Ready in
 * the pool). The cap adapts like a congestion window (AIMD): each 500 ms with a headroom signal
 * over its limit it falls to 90 % of what is in service (never below `minLimit`); each 500 ms
 * without, it grows by 5 %, and once past the number of agents, or after 10 s without a signal
 * over its limit, there is no cap. A Ready over the
 * cap waits, first come first served, until a call ends or the cap grows. Measured in bench:calls
 * (BENCHMARKS.md, issue 14): past the knee the main thread is 100 % busy, every SIP request is
 * retransmitted once (answers come later than T1) and goodput falls; event-loop delay stays low.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

const ADJUST_MS = 500;
const DECREASE = 0.9;
const INCREASE = 0.05;
/** This many calm steps in a row (10 s) and the cap is gone: a start-up burst leaves no cap behind. */
const CALM_STEPS_TO_LIFT = 20;

export interface ReadyGateOptions {
  clock: Clock;
  /** Calls up now plus agents Ready with no call yet. */
  inService: () => number;
  /** Whether a headroom signal is over its limit now. */
  overloaded: () => boolean;
  minLimit: number;
  /** Agents this gateway could offer: a cap at or above it is no cap. */
  agents: () => number;
}

export interface ReadyGateStats {
  /** Readys that had to wait at the gate. */
  held: number;
  /** Times the cap was lowered (a signal over its limit). */
  decreases: number;
}

export class ReadyGate {
  private cap = Infinity;
  private readonly waiters: (() => void)[] = [];
  private timer: TimerHandle | undefined;
  private stopped = false;
  private calmSteps = 0;
  readonly stats: ReadyGateStats = { held: 0, decreases: 0 };

  constructor(private readonly o: ReadyGateOptions) {}

  start(): void {
    if (this.timer || this.stopped) return;
    const tick = (): void => {
      this.adjust();
      if (!this.stopped) this.timer = this.o.clock.set(ADJUST_MS, tick);
    };
    this.timer = this.o.clock.set(ADJUST_MS, tick);
  }

  /** No more holding: every waiting Ready goes. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.cap = Infinity;
    this.wake();
  }

  /** The cap now; null when there is none. */
  get limit(): number | null {
    return Number.isFinite(this.cap) ? this.cap : null;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves when the agent may be offered again: at once unless the cap is reached. */
  admit(): Promise<void> {
    if (this.waiters.length === 0 && this.o.inService() < this.cap) return Promise.resolve();
    this.stats.held++;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Something left service (a call ended) or the cap grew: let waiting Readys in while under it. */
  wake(): void {
    // Each admitted Ready is in service once its waiter runs (the pool has it Ready); count the
    // ones let in by this call so one wake does not let in more than the room there is.
    let room = this.cap - this.o.inService();
    while (this.waiters.length > 0 && room > 0) {
      this.waiters.shift()!();
      room--;
    }
  }

  /** One 500 ms step of the window (public for tests driving it with a fake clock). */
  adjust(): void {
    if (this.o.overloaded()) {
      this.cap = Math.max(this.o.minLimit, Math.floor(Math.min(this.cap, this.o.inService()) * DECREASE));
      this.stats.decreases++;
      this.calmSteps = 0;
    } else if (Number.isFinite(this.cap)) {
      this.cap += Math.max(1, Math.ceil(this.cap * INCREASE));
      if (this.cap >= this.o.agents() || ++this.calmSteps >= CALM_STEPS_TO_LIFT) this.cap = Infinity;
    }
    this.wake();
  }
}
