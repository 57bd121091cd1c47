/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8).
 *
 *   Trying --1xx--> Proceeding --final--> Completed --Timer J--> Terminated
 *      \---------------final-------------^
 *
 * Retransmitted requests: absorbed in Trying, answered with the last response otherwise.
 * Timer J is 64*T1 on unreliable transports and zero on reliable ones.
 */
import type { SipRequest, SipResponse } from '../message.js';
import type { ServerTxDeps } from './server-invite.js';
import { TxTimers } from './timers.js';

export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export class NonInviteServerTransaction {
  state: ServerNonInviteState = 'trying';
  private last?: SipResponse;
  private readonly timers: TxTimers<'J'>;

  constructor(
    readonly request: SipRequest,
    private readonly deps: ServerTxDeps,
  ) {
    this.timers = new TxTimers(deps.clock, (t) => this.fire(t));
  }

  receive(_req: SipRequest): 'absorbed' {
    if (this.last && (this.state === 'proceeding' || this.state === 'completed')) this.deps.send(this.last);
    return 'absorbed';
  }

  respond(res: SipResponse): void {
    if (this.state === 'completed' || this.state === 'terminated') return;
    this.last = res;
    this.deps.send(res);
    if (res.status < 200) {
      this.state = 'proceeding';
      return;
    }
    this.state = 'completed';
    this.timers.arm('J', this.deps.reliable ? 0 : 64 * this.deps.timers.T1);
  }

  transportError(): void {
    if (this.state === 'terminated') return;
    this.deps.onTimeout();
    this.terminate();
  }

  fire(_t: 'J'): void {
    this.terminate();
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clear();
    this.deps.onTerminated();
  }
}
