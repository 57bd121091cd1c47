import type { Clock, TimerHandle } from '../clock.js';

/** RFC 3261 §17.1.1.1 / Appendix A timer values (ms). Configurable per stack for tests. */
export interface TimerConfig {
  T1: number;
  T2: number;
  T4: number;
}

export const DEFAULT_TIMERS: TimerConfig = { T1: 500, T2: 4000, T4: 5000 };

/**
 * The named timers of one transaction. Expiry is fed back into the transaction's state machine
 * as an input (`fire(name)`); a zero duration (reliable transports, §17) fires at once.
 */
export class TxTimers<Name extends string> {
  private handles = new Map<Name, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (name: Name) => void,
  ) {}

  arm(name: Name, ms: number): void {
    this.cancel(name);
    if (ms <= 0) this.fire(name);
    else
      this.handles.set(
        name,
        this.clock.set(ms, () => {
          this.handles.delete(name);
          this.fire(name);
        }),
      );
  }

  cancel(name: Name): void {
    this.handles.get(name)?.cancel();
    this.handles.delete(name);
  }

  clear(): void {
    for (const h of this.handles.values()) h.cancel();
    this.handles.clear();
  }
}
