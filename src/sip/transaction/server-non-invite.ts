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
import { Transaction } from './base.js';

export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export class NonInviteServerTransaction extends Transaction<'J', ServerNonInviteState> {
  state: ServerNonInviteState = 'trying';
  private last?: SipResponse;

  constructor(
    readonly request: SipRequest,
    private readonly deps: ServerTxDeps,
  ) {
    super(deps);
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

  fire(_t: 'J'): void {
    this.terminate();
  }

}
