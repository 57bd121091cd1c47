/**
 * CANCEL for an INVITE we sent (RFC 3261 §9.1) and the Reason header (RFC 3326).
 *
 * The endpoint gives every request it sends through a client transaction a Via of its own, but a
 * CANCEL must carry the INVITE's top Via (same branch) so the UAS can match it (§9.2). So the
 * CANCEL goes out without a transaction, and on unreliable transports it is retransmitted like a
 * non-INVITE request (Timer E, §17.1.2.2) until the INVITE gets its final response — the only
 * answer the caller needs — or 64*T1 pass.
 */
import type { TimerHandle } from './clock.js';
import type { SipEndpoint } from './endpoint.js';
import { newRequest, SipHeaders, type SipRequest } from './message.js';
import type { Destination } from './transport/types.js';

/** RFC 3326 §2: why a request is cancelled or a dialog ended, as SIP or Q.850 cause. */
export interface ReasonCause {
  protocol: 'SIP' | 'Q.850';
  cause: number;
  text?: string;
}

/** The Reason header value: given as a cause, or verbatim. */
export function formatReason(r: ReasonCause | string): string {
  if (typeof r === 'string') return r;
  const text = r.text === undefined ? '' : `;text="${r.text.replace(/[\r\n"\\]/g, ' ')}"`;
  return `${r.protocol};cause=${r.cause}${text}`;
}

/**
 * §9.1: Request-URI, Call-ID, To, From, CSeq number and Route as in the INVITE (To without the
 * tag it may have gained since), a single Via equal to the INVITE's top Via.
 */
export function buildCancel(invite: SipRequest, reason?: ReasonCause | string): SipRequest {
  const r = invite.headers;
  const h = new SipHeaders();
  h.add('Via', r.getAll('Via')[0]!);
  for (const route of r.lines('Route')) h.add('Route', route);
  h.add('Max-Forwards', '70');
  h.add('From', r.get('From')!);
  h.add('To', r.get('To')!);
  h.add('Call-ID', r.get('Call-ID')!);
  h.add('CSeq', `${r.get('CSeq')!.trim().split(/\s+/)[0]} CANCEL`);
  if (reason !== undefined) h.add('Reason', formatReason(reason));
  return newRequest('CANCEL', invite.uri, h);
}

/** Sends one CANCEL and its retransmissions until `stop()` or Timer F (64*T1). */
export class CancelSender {
  private timer?: TimerHandle;
  private stopped = false;

  constructor(
    private readonly endpoint: SipEndpoint,
    private readonly cancel: SipRequest,
    private readonly dest: Destination,
  ) {}

  start(): void {
    const { clock, timers } = this.endpoint;
    this.endpoint.sendStateless(this.cancel, this.dest);
    if (this.dest.transport !== 'udp') return;
    const deadline = clock.now() + 64 * timers.T1;
    let interval = timers.T1;
    const tick = (): void => {
      if (this.stopped || clock.now() >= deadline) return;
      this.endpoint.sendStateless(this.cancel, this.dest);
      interval = Math.min(2 * interval, timers.T2);
      this.timer = clock.set(interval, tick);
    };
    this.timer = clock.set(interval, tick);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
