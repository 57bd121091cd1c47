/**
 * The far end is the agent's registered SIP.js endpoint: the media plane's WebRTC offer goes out
 * as an INVITE over the WebSocket flow the REGISTER came on (RFC 7118 §5, flow reuse), the 200's
 * SDP is the answer. The agent leg's BYE ends the call; the call's end sends BYE (or CANCEL while
 * it rings). A re-INVITE from the browser (SIP.js hold) is answered from our own offer with the
 * direction mirrored (RFC 3264 §8.4) and holds or resumes the caller's audio.
 */
import type { Logger } from 'pino';
import type { Dialog } from '../../sip/dialog.js';
import type { SipRequest } from '../../sip/message.js';
import type { UserAgent } from '../../sip/ua.js';
import { invite, InviteError, type OutgoingInvite } from '../../sip/uac.js';
import type { StreamMeta } from '../../../media/types.js';
import { answerDtmfInfo } from '../dtmf.js';
import type { Registrar } from '../registrar.js';
import type { FarEnd, FarEndHandlers, FarEndSource } from './far-end.js';
import { mirrorOffer, setupOf } from './sdp-mirror.js';

export interface SipFarEndOptions {
  registrar: Registrar;
  ua: UserAgent;
  /** The agent's number (the To of the INVITE). */
  numberOf(agentId: string): string | undefined;
  log: Logger;
}

export class SipFarEndSource implements FarEndSource {
  constructor(private readonly opts: SipFarEndOptions) {}

  unavailable(agentId: string): string | undefined {
    return this.opts.registrar.lookup(agentId) ? undefined : `Virtual agent ${agentId} has no registered WebRTC endpoint`;
  }

  create(agentId: string, callId: string, handlers: FarEndHandlers): FarEnd {
    return new SipFarEnd(this.opts, agentId, callId, handlers);
  }
}

class SipFarEnd implements FarEnd {
  private out?: OutgoingInvite;
  private dialog?: Dialog;
  private ended = false;
  private offerSdp = '';
  private ourSetup: 'active' | 'passive' = 'passive';
  private version = 2;
  private readonly log: Logger;
  private unwatch?: () => void;

  constructor(
    private readonly opts: SipFarEndOptions,
    private readonly agentId: string,
    callId: string,
    private readonly h: FarEndHandlers,
  ) {
    this.log = opts.log.child({ callId, agent: agentId, leg: 'webrtc-sip' });
  }

  offer(sdp: string, meta: StreamMeta): void {
    const b = this.opts.registrar.lookup(this.agentId);
    if (!b) return this.h.failed(`virtual agent ${this.agentId} unregistered before the call reached it`);
    const number = this.opts.numberOf(this.agentId) ?? this.agentId;
    const host = b.flow.local.address;
    const caller = (meta.caller || 'anonymous').replace(/[^A-Za-z0-9+*#._-]/g, '');
    this.offerSdp = sdp;
    // The browser's tab closed or its network dropped: no BYE can come over a WebSocket that is
    // gone, so the connection closing is the hang-up (the call then ends with its wrap-up).
    const conn = b.flow.connectionId;
    this.unwatch = this.opts.ua.endpoint.onFlowClosed((flow) => {
      if (flow.connectionId !== conn || flow.transport !== b.flow.transport || !this.finish()) return;
      if (this.dialog) this.h.gone('the agent\'s WebSocket connection closed');
      else this.h.failed('the agent\'s WebSocket connection closed before it answered');
    });
    this.out = invite(this.opts.ua, {
      destination: b.destination,
      uri: b.contact,
      from: `"${caller}" <sip:${caller}@${host}>`,
      to: `<sip:${number}@${host}>`,
      contact: this.opts.ua.contactFor(number, b.flow),
      // What a softphone or the demo page shows; the engine-protocol metadata travels in headers.
      headers: { 'X-Vagw-Call-Sid': meta.callSid, 'X-Vagw-Sip-Call-Id': meta.sipCallId, 'X-Vagw-Agent': this.agentId },
      sdp,
      logger: this.log,
    });
    this.log.info({ contact: b.contact }, 'INVITE to the registered WebRTC endpoint');
    this.out.answered.then(
      ({ dialog, sdp: answer }) => this.answered(dialog, answer),
      (e: Error) => {
        if (!this.finish()) return;
        this.h.failed(e instanceof InviteError ? `agent endpoint answered ${e.status} ${e.reason}` : e.message);
      },
    );
  }

  private answered(dialog: Dialog, answer: string | undefined): void {
    if (this.ended) return void dialog.bye('local-bye');
    this.dialog = dialog;
    dialog.on('terminated', (why) => {
      if (!this.finish()) return;
      this.h.gone(`agent leg ended (${why})`);
    });
    dialog.handler = { offer: (sdp) => this.reoffer(sdp), info: (req) => this.info(req) };
    if (!answer) return this.h.failed('the agent endpoint answered without SDP');
    // DTLS roles are fixed by the first answer (RFC 5763 §5): keep ours on every re-negotiation.
    this.ourSetup = setupOf(answer) === 'passive' ? 'active' : 'passive';
    this.h.answer(answer);
  }

  /** SIP.js hold/resume: same transport parameters, direction mirrored, caller audio held. */
  private reoffer(sdp: string | undefined): { sdp: string } | { status: number; reason: string } {
    if (!sdp) return { status: 488, reason: 'Re-INVITE without SDP offer is not supported' };
    const m = mirrorOffer(this.offerSdp, sdp, this.ourSetup, this.version++);
    if ('error' in m) return { status: 488, reason: m.error };
    this.h.control({ type: m.held ? 'hold' : 'unhold' });
    return { sdp: m.sdp };
  }

  /** DTMF the browser sent by INFO (SIP.js without telephone-event): play it to the caller. */
  private info(req: SipRequest): { status: number; reason?: string } {
    return answerDtmfInfo(req.headers.get('Content-Type') ?? '', req.body, (d) => this.h.control({ type: 'dtmf', digits: d.digit }));
  }

  /** The leg is over (whoever ended it): stop watching its connection. False if it already was. */
  private finish(): boolean {
    this.unwatch?.();
    if (this.ended) return false;
    this.ended = true;
    return true;
  }

  end(reason: string, detail?: string): void {
    if (!this.finish()) return;
    this.log.info({ reason, detail }, 'ending the agent leg');
    // RFC 3326: the BYE says why when the far end's answer or ICE/DTLS failed (488: its SDP).
    const why: Record<string, string> = detail ? { Reason: `SIP;cause=488;text="${detail.replace(/["\\\r\n]/g, "'").slice(0, 200)}"` } : {};
    if (this.dialog) void this.dialog.bye('local-bye', why);
    else if (this.out && this.out.state !== 'failed') this.out.cancel(reason);
  }
}
