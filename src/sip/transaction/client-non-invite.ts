/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6).
 *
 *   Trying --1xx--> Proceeding --final--> Completed --Timer K--> Terminated
 *      \---------------final-------------^
 *   Timer E retransmits (unreliable only): doubling up to T2 in Trying, every T2 in Proceeding.
 *   Timer F (64*T1) in Trying/Proceeding: timeout reported to the TU.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { SipRequest, SipResponse } from '../message.js';
import type { TimerConfig } from './timers.js';

export interface ClientTxDeps {
  clock: Clock;
  timers: TimerConfig;
  reliable: boolean;
  send(req: SipRequest): void;
  onResponse(res: SipResponse): void;
  onTimeout(): void;
  onTerminated(): void;
}

export type ClientNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';
type Timer = 'E' | 'F' | 'K';

export class NonInviteClientTransaction {
  state: ClientNonInviteState = 'trying';
  private timers = new Map<Timer, TimerHandle>();
  private eInterval: number;

  constructor(
    readonly request: SipRequest,
    private readonly deps: ClientTxDeps,
  ) {
    this.eInterval = deps.timers.T1;
  }

  start(): void {
    this.deps.send(this.request);
    if (!this.deps.reliable) this.arm('E', this.eInterval);
    this.arm('F', 64 * this.deps.timers.T1);
  }

  receive(res: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    if (res.status < 200) {
      this.state = 'proceeding';
      this.deps.onResponse(res);
      return;
    }
    this.state = 'completed';
    this.cancel('E');
    this.cancel('F');
    this.deps.onResponse(res);
    this.arm('K', this.deps.reliable ? 0 : this.deps.timers.T4);
  }

  transportError(): void {
    if (this.state === 'terminated') return;
    this.deps.onTimeout();
    this.terminate();
  }

  fire(t: Timer): void {
    this.timers.delete(t);
    if (this.state === 'terminated') return;
    switch (t) {
      case 'E':
        if (this.state !== 'trying' && this.state !== 'proceeding') return;
        this.deps.send(this.request);
        this.eInterval = this.state === 'trying' ? Math.min(2 * this.eInterval, this.deps.timers.T2) : this.deps.timers.T2;
        this.arm('E', this.eInterval);
        return;
      case 'F':
        if (this.state !== 'trying' && this.state !== 'proceeding') return;
        this.deps.onTimeout();
        this.terminate();
        return;
      case 'K':
        this.terminate();
        return;
    }
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    for (const h of this.timers.values()) h.cancel();
    this.timers.clear();
    this.deps.onTerminated();
  }

  private arm(t: Timer, ms: number): void {
    this.cancel(t);
    if (ms <= 0) this.fire(t);
    else this.timers.set(t, this.deps.clock.set(ms, () => this.fire(t)));
  }

  private cancel(t: Timer): void {
    this.timers.get(t)?.cancel();
    this.timers.delete(t);
  }
}
