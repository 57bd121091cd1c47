/**
 * INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as amended by RFC 6026 §7.1, which adds
 * the Accepted state so retransmitted INVITEs after a 2xx are absorbed instead of reaching the TU.
 *
 *                 INVITE (sent 100 at once)
 *                    |
 *               Proceeding --1xx--> (send, stay)
 *        2xx /       |  \ 300-699
 *           v        |   v
 *      Accepted      |  Completed --Timer G--> resend final (unreliable only)
 *   (Timer L)        |   |  \ Timer H: no ACK -> Terminated (timeout to TU)
 *           |        |   ACK
 *           v        |   v
 *      Terminated <--+ Confirmed --Timer I--> Terminated
 *
 * Timers are inputs to `fire`; the only side effects are `send` and the callbacks.
 */
import type { Clock } from '../clock.js';
import type { SipRequest, SipResponse } from '../message.js';
import type { TimerConfig } from './timers.js';
import { Transaction } from './base.js';

export type ServerInviteState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export interface ServerTxDeps {
  clock: Clock;
  timers: TimerConfig;
  reliable: boolean;
  send(res: SipResponse): void;
  /** ACK never arrived for a non-2xx final (Timer H) or the transport failed. */
  onTimeout(): void;
  onTerminated(): void;
}

type Timer = 'G' | 'H' | 'I' | 'L';

export class InviteServerTransaction extends Transaction<Timer, ServerInviteState> {
  state: ServerInviteState = 'proceeding';
  private last?: SipResponse;
  private gInterval: number;

  constructor(
    readonly request: SipRequest,
    private readonly deps: ServerTxDeps,
  ) {
    super(deps);
    this.gInterval = deps.timers.T1;
  }

  /** A retransmission of the INVITE, or the ACK for a non-2xx final response. */
  receive(req: SipRequest): 'absorbed' | 'ack' {
    if (req.method === 'ACK') {
      if (this.state === 'completed') {
        this.timers.cancel('G');
        this.timers.cancel('H');
        this.state = 'confirmed';
        // §17.2.1: Timer I absorbs further ACK retransmissions; zero on reliable transports.
        this.timers.arm('I', this.deps.reliable ? 0 : this.deps.timers.T4);
      }
      return 'ack';
    }
    // §17.2.1: a retransmitted INVITE gets the most recent provisional (Proceeding) or final
    // (Completed) response again; in Accepted (RFC 6026) it is absorbed.
    if ((this.state === 'proceeding' || this.state === 'completed') && this.last) this.deps.send(this.last);
    return 'absorbed';
  }

  respond(res: SipResponse): void {
    if (this.state !== 'proceeding') {
      // RFC 6026 §7.1: further 2xx from the TU (its own retransmissions) pass through in Accepted.
      if (this.state === 'accepted' && res.status >= 200 && res.status < 300) this.deps.send(res);
      return;
    }
    this.last = res;
    this.deps.send(res);
    if (res.status < 200) return;
    if (res.status < 300) {
      this.state = 'accepted';
      this.timers.arm('L', 64 * this.deps.timers.T1);
      return;
    }
    this.state = 'completed';
    if (!this.deps.reliable) this.timers.arm('G', this.gInterval);
    this.timers.arm('H', 64 * this.deps.timers.T1);
  }

  /** Transport could not deliver a response (§17.2.4). */

  fire(t: Timer): void {
    switch (t) {
      case 'G':
        if (this.state !== 'completed' || !this.last) return;
        this.deps.send(this.last);
        this.gInterval = Math.min(2 * this.gInterval, this.deps.timers.T2);
        this.timers.arm('G', this.gInterval);
        return;
      case 'H':
        if (this.state !== 'completed') return;
        this.deps.onTimeout();
        this.terminate();
        return;
      case 'I':
      case 'L':
        this.terminate();
        return;
    }
  }

}
