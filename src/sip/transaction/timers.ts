/** RFC 3261 §17.1.1.1 / Appendix A timer values (ms). Configurable per stack for tests. */
export interface TimerConfig {
  T1: number;
  T2: number;
  T4: number;
}

export const DEFAULT_TIMERS: TimerConfig = { T1: 500, T2: 4000, T4: 5000 };
