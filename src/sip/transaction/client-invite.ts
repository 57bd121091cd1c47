/**
 * INVITE client transaction, RFC 3261 §17.1.1 (Figure 5) with RFC 6026 §8.4 (Accepted state).
 *
 *   Calling --1xx--> Proceeding
 *     |  Timer A: retransmit (unreliable), doubling; Timer B (64*T1): timeout
 *     |-- 2xx --> Accepted (Timer M 64*T1; 2xx retransmissions go to the TU, which re-ACKs)
 *     |-- 300-699 --> Completed: ACK sent by the transaction (§17.1.1.3), Timer D, then Terminated
 * Used by the gateway for re-INVITEs it originates (session refresh, RFC 4028).
 */
import { newRequest, SipHeaders, type SipRequest, type SipResponse } from '../message.js';
import type { ClientTxDeps } from './client-non-invite.js';
import { Transaction } from './base.js';

export type ClientInviteState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
type Timer = 'A' | 'B' | 'D' | 'M';

export class InviteClientTransaction extends Transaction<Timer, ClientInviteState> {
  state: ClientInviteState = 'calling';
  private aInterval: number;
  private ack?: SipRequest;

  constructor(
    readonly request: SipRequest,
    private readonly deps: ClientTxDeps,
  ) {
    super(deps);
    this.aInterval = deps.timers.T1;
  }

  start(): void {
    this.deps.send(this.request);
    if (!this.deps.reliable) this.timers.arm('A', this.aInterval);
    this.timers.arm('B', 64 * this.deps.timers.T1);
  }

  receive(res: SipResponse): void {
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (res.status < 200) {
          this.state = 'proceeding';
          this.timers.cancel('A');
          this.deps.onResponse(res);
        } else if (res.status < 300) {
          this.state = 'accepted';
          this.timers.cancel('A');
          this.timers.cancel('B');
          this.timers.arm('M', 64 * this.deps.timers.T1);
          this.deps.onResponse(res);
        } else {
          this.state = 'completed';
          this.timers.cancel('A');
          this.timers.cancel('B');
          this.ack = this.buildAck(res);
          this.deps.send(this.ack);
          this.deps.onResponse(res);
          this.timers.arm('D', this.deps.reliable ? 0 : 32_000);
        }
        return;
      case 'accepted':
        if (res.status >= 200 && res.status < 300) this.deps.onResponse(res);
        return;
      case 'completed':
        if (res.status >= 300 && this.ack) this.deps.send(this.ack);
        return;
      case 'terminated':
        return;
    }
  }

  /** §17.1.1.3: the ACK for a non-2xx final shares the INVITE's branch and Request-URI. */
  private buildAck(res: SipResponse): SipRequest {
    const r = this.request.headers;
    const h = new SipHeaders();
    h.add('Via', r.getAll('Via')[0]!);
    for (const route of r.lines('Route')) h.add('Route', route);
    h.add('Max-Forwards', '70');
    h.add('From', r.get('From')!);
    h.add('To', res.headers.get('To')!);
    h.add('Call-ID', r.get('Call-ID')!);
    h.add('CSeq', `${r.get('CSeq')!.trim().split(/\s+/)[0]} ACK`);
    return newRequest('ACK', this.request.uri, h);
  }

  fire(t: Timer): void {
    if (this.state === 'terminated') return;
    switch (t) {
      case 'A':
        if (this.state !== 'calling') return;
        this.deps.send(this.request);
        this.aInterval *= 2;
        this.timers.arm('A', this.aInterval);
        return;
      case 'B':
        if (this.state !== 'calling') return;
        this.deps.onTimeout();
        this.terminate();
        return;
      case 'D':
      case 'M':
        this.terminate();
        return;
    }
  }

}
