/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6).
 *
 *   Trying --1xx--> Proceeding --final--> Completed --Timer K--> Terminated
 *      \---------------final-------------^
 *   Timer E retransmits (unreliable only): doubling up to T2 in Trying, every T2 in Proceeding.
 *   Timer F (64*T1) in Trying/Proceeding: timeout reported to the TU.
 */
import type { Clock } from '../clock.js';
import type { SipRequest, SipResponse } from '../message.js';
import type { TimerConfig } from './timers.js';
import { Transaction } from './base.js';

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

export class NonInviteClientTransaction extends Transaction<Timer, ClientNonInviteState> {
  state: ClientNonInviteState = 'trying';
  private eInterval: number;

  constructor(
    readonly request: SipRequest,
    private readonly deps: ClientTxDeps,
  ) {
    super(deps);
    this.eInterval = deps.timers.T1;
  }

  start(): void {
    this.deps.send(this.request);
    if (!this.deps.reliable) this.timers.arm('E', this.eInterval);
    this.timers.arm('F', 64 * this.deps.timers.T1);
  }

  receive(res: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    if (res.status < 200) {
      this.state = 'proceeding';
      this.deps.onResponse(res);
      return;
    }
    this.state = 'completed';
    this.timers.cancel('E');
    this.timers.cancel('F');
    this.deps.onResponse(res);
    this.timers.arm('K', this.deps.reliable ? 0 : this.deps.timers.T4);
  }

  fire(t: Timer): void {
    if (this.state === 'terminated') return;
    switch (t) {
      case 'E':
        if (this.state !== 'trying' && this.state !== 'proceeding') return;
        this.deps.send(this.request);
        this.eInterval = this.state === 'trying' ? Math.min(2 * this.eInterval, this.deps.timers.T2) : this.deps.timers.T2;
        this.timers.arm('E', this.eInterval);
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

}
