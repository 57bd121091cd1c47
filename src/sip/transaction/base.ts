/**
 * What every transaction machine shares (RFC 3261 §17): named timers fed back as inputs, and
 * one way to the Terminated state — on its own timers, or when the transport fails (§17.1.4,
 * §17.2.4), which the TU hears as a timeout.
 */
import type { Clock } from '../clock.js';
import { TxTimers } from './timers.js';

export interface TxLifecycle {
  clock: Clock;
  onTimeout(): void;
  onTerminated(): void;
}

export abstract class Transaction<Timer extends string, State extends string> {
  abstract state: State | 'terminated';
  protected readonly timers: TxTimers<Timer>;

  constructor(private readonly lifecycle: TxLifecycle) {
    this.timers = new TxTimers(lifecycle.clock, (t) => this.fire(t));
  }

  /** A timer expired: the machine's input for it. */
  abstract fire(t: Timer): void;

  /** The transport could not deliver: the TU learns of it as a timeout. */
  transportError(): void {
    if (this.state === 'terminated') return;
    this.lifecycle.onTimeout();
    this.terminate();
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clear();
    this.lifecycle.onTerminated();
  }
}
