/**
 * UAC side of INVITE (RFC 3261 §13.2): the gateway calls out. The INVITE runs in an INVITE client
 * transaction (§17.1.1, RFC 6026); provisional responses are reported; a 2xx creates a UAC-role
 * Dialog (§12.1.2) that we ACK ourselves, for the first 2xx and each retransmission (§13.2.2.4);
 * a non-2xx final is ACKed by the transaction and rejects; Timer B rejects. `cancel()` follows
 * §9.1 (CANCEL only once a provisional arrived; a 2xx that races it is ACKed and ended with BYE).
 */
import type { Logger } from 'pino';
import { Dialog, type DialogInit } from './dialog.js';
import type { ClientTransaction } from './endpoint.js';
import { Emitter } from './emitter.js';
import { parseNameAddr, parseUri, tagOf } from './grammar.js';
import { newRequest, SipHeaders, type SipRequest, type SipResponse } from './message.js';
import { newTag, uniqueToken, withTag } from './response.js';
import type { Destination, Flow } from './transport/types.js';
import { buildCancel, CancelSender, formatReason, type ReasonCause } from './uac-cancel.js';
import type { UserAgent } from './ua.js';

export { formatReason, type ReasonCause } from './uac-cancel.js';

export interface InviteOptions {
  /** Where the INVITE goes (for a registered client: the flow it registered on). */
  destination: Destination;
  /** Request-URI (§8.1.1.1). */
  uri: string;
  /** From without tag (§8.1.1.3): the tag is ours, generated here. */
  from: string;
  /** To (§8.1.1.2), without tag. */
  to: string;
  /** Our Contact (§8.1.1.8); default: the UA's for the destination's transport. */
  contact?: string;
  /** Extra headers (e.g. Session-Expires, X-...); a value array gives one header line each. */
  headers?: Record<string, string | string[]>;
  /** The SDP offer. */
  sdp: string;
  callId?: string;
  logger: Logger;
  /** The dialog's next hop override (see DialogCommon.route): a simulator playing its own proxies. */
  route?: DialogInit['route'];
  /** Routes this side plays itself, left out of the Route headers (see DialogCommon.ownRoute). */
  ownRoute?: DialogInit['ownRoute'];
}

export interface InviteProgress {
  status: number;
  reason: string;
  /** Early media answer (183 with SDP). */
  sdp?: string;
  response: SipResponse;
}

export interface InviteAnswer {
  dialog: Dialog;
  /** The SDP answer of the 2xx (absent if the peer broke RFC 3264 and sent none). */
  sdp?: string;
  response: SipResponse;
}

/** How an INVITE failed: a final non-2xx, no answer at all (Timer B, transport), or our CANCEL. */
export type InviteFailure = 'rejected' | 'timeout' | 'cancelled';

export class InviteError extends Error {
  constructor(
    readonly kind: InviteFailure,
    readonly status: number,
    readonly reason: string,
    readonly response?: SipResponse,
  ) {
    super(`INVITE ${kind}: ${status} ${reason}`);
  }
}

export interface OutgoingInviteEvents {
  /** A provisional response (100, 180, 183, ...). */
  progress(p: InviteProgress): void;
}

export type OutgoingInviteState = 'calling' | 'proceeding' | 'answered' | 'failed';

export class OutgoingInvite extends Emitter<OutgoingInviteEvents> {
  readonly callId: string;
  readonly localTag = newTag();
  /** The INVITE as sent (the endpoint added Via and Max-Forwards). */
  readonly request: SipRequest;
  /** Resolves on the first 2xx; rejects with an InviteError. */
  readonly answered: Promise<InviteAnswer>;
  state: OutgoingInviteState = 'calling';
  private readonly tx: ClientTransaction;
  private readonly flow: Flow;
  private readonly contact: string;
  private dialog?: Dialog;
  private settle!: { resolve: (a: InviteAnswer) => void; reject: (e: InviteError) => void };
  /** Set by cancel(): the Reason to send (if any) and whether the CANCEL went out. */
  private cancelling?: { reason?: ReasonCause | string; sender?: CancelSender; giveUp?: { cancel(): void } };

  constructor(
    private readonly ua: UserAgent,
    private readonly opts: InviteOptions,
  ) {
    super();
    const ep = ua.endpoint;
    const dest = opts.destination;
    this.flow = { transport: dest.transport, local: { address: ep.opts.advertisedHost, port: ep.port }, remote: { address: dest.address, port: dest.port } };
    if (dest.connectionId !== undefined) this.flow.connectionId = dest.connectionId;
    this.contact = opts.contact ?? ua.contactFor(userOf(opts.from), this.flow);
    this.callId = opts.callId ?? `${uniqueToken()}@${ep.opts.advertisedHost}`;
    this.answered = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // The owner may only look at `state`; a rejection must not crash the process unobserved.
    this.answered.catch(() => undefined);
    this.request = this.build();
    this.tx = ep.request(this.request, dest, {
      onResponse: (res) => this.onResponse(res),
      onTimeout: () => this.fail(this.cancelling ? 'cancelled' : 'timeout', 408, 'Request Timeout'),
    });
  }

  get log(): Logger {
    return this.opts.logger;
  }

  /** §8.1.1: To, From (our tag), Call-ID, CSeq, Contact, then ours and the caller's headers. */
  private build(): SipRequest {
    const h = new SipHeaders();
    h.add('To', this.opts.to);
    h.add('From', withTag(this.opts.from, this.localTag));
    h.add('Call-ID', this.callId);
    h.add('CSeq', `${1 + Math.floor(Math.random() * 10_000)} INVITE`);
    h.add('Contact', this.contact);
    for (const [k, v] of Object.entries({ ...this.ua.common, ...this.opts.headers })) {
      for (const line of Array.isArray(v) ? v : [v]) h.add(k, line);
    }
    h.add('Content-Type', 'application/sdp');
    return newRequest('INVITE', this.opts.uri, h, Buffer.from(this.opts.sdp));
  }

  private onResponse(res: SipResponse): void {
    if (res.status < 200) return this.onProvisional(res);
    if (res.status < 300) return this.on2xx(res);
    // §17.1.1.3: the transaction already ACKed it.
    if (this.state === 'answered' || this.state === 'failed') return;
    this.fail(this.cancelling ? 'cancelled' : 'rejected', res.status, res.reason, res);
  }

  private onProvisional(res: SipResponse): void {
    if (this.state !== 'calling' && this.state !== 'proceeding') return;
    this.state = 'proceeding';
    const p: InviteProgress = { status: res.status, reason: res.reason, response: res };
    if (res.body.length > 0) p.sdp = res.body.toString('utf8');
    this.emit('progress', p);
    // §9.1: a CANCEL asked for before any provisional response goes out now.
    if (this.cancelling && !this.cancelling.sender) this.sendCancel();
  }

  private on2xx(res: SipResponse): void {
    const tag = tagOf(res.headers.get('To')) ?? '';
    if (this.dialog && this.dialog.remoteTag === tag) return this.dialog.receive2xx(res);
    const dialog = new Dialog({
      role: 'uac',
      endpoint: this.ua.endpoint,
      flow: this.flow,
      invite: this.request,
      okResponse: res,
      localContact: this.contact,
      localSdp: this.opts.sdp,
      sessionTimers: this.ua.opts.sessionTimers,
      commonHeaders: this.ua.common,
      logger: this.log,
      ...(this.opts.route ? { route: this.opts.route } : {}),
      ...(this.opts.ownRoute ? { ownRoute: this.opts.ownRoute } : {}),
    });
    dialog.receive2xx(res);
    if (this.dialog) {
      // §13.2.2.4: a 2xx from another fork (other To tag) is a second dialog; we keep the first.
      this.log.info({ callId: this.callId, tag }, 'second 2xx from another fork: ACK and BYE');
      void dialog.bye('local-bye');
      return;
    }
    this.dialog = dialog;
    this.ua.dialogs.set(dialog.id, dialog);
    dialog.on('terminated', () => this.ua.dialogs.delete(dialog.id));
    if (this.cancelling) {
      // §9.1: the answer raced our CANCEL; the session is not wanted.
      this.stopCancel();
      this.state = 'failed';
      const reason = this.cancelling.reason;
      void dialog.bye('local-bye', reason === undefined ? {} : { Reason: formatReason(reason) });
      this.settle.reject(new InviteError('cancelled', res.status, 'Answered while cancelling: ended with BYE', res));
      return;
    }
    this.state = 'answered';
    const answer: InviteAnswer = { dialog, response: res };
    if (res.body.length > 0) answer.sdp = res.body.toString('utf8');
    this.settle.resolve(answer);
  }

  private fail(kind: InviteFailure, status: number, reason: string, res?: SipResponse): void {
    if (this.state === 'answered' || this.state === 'failed') return;
    this.state = 'failed';
    this.stopCancel();
    this.settle.reject(new InviteError(kind, status, reason, res));
  }

  /**
   * Give up on the call before it is answered (§9.1), with an optional RFC 3326 Reason. The
   * CANCEL goes out once a provisional response arrived. Resolution comes through `answered`:
   * it rejects with kind 'cancelled' (the 487, or a 2xx that raced and was ended with BYE).
   * No effect once answered: end the dialog with `bye()` then.
   */
  cancel(reason?: ReasonCause | string): void {
    if (this.cancelling || this.state === 'answered' || this.state === 'failed') return;
    this.cancelling = reason === undefined ? {} : { reason };
    if (this.state === 'proceeding') this.sendCancel();
  }

  private sendCancel(): void {
    const c = this.cancelling!;
    c.sender = new CancelSender(this.ua.endpoint, buildCancel(this.request, c.reason), this.opts.destination);
    c.sender.start();
    // §9.1: no final response 64*T1 after the CANCEL: treat the INVITE as cancelled.
    const { clock, timers } = this.ua.endpoint;
    c.giveUp = clock.set(64 * timers.T1, () => {
      this.tx.terminate();
      this.fail('cancelled', 408, 'No final response after CANCEL');
    });
  }

  private stopCancel(): void {
    this.cancelling?.sender?.stop();
    this.cancelling?.giveUp?.cancel();
  }
}

/** Place an INVITE; see OutgoingInvite. */
export function invite(ua: UserAgent, opts: InviteOptions): OutgoingInvite {
  return new OutgoingInvite(ua, opts);
}

function userOf(nameAddr: string): string {
  try {
    return parseUri(parseNameAddr(nameAddr).uri).user ?? '';
  } catch {
    return '';
  }
}
