/** The types a dialog is built from and talks to its owner with (see dialog.ts). */
import type { Logger } from 'pino';
import type { SipEndpoint } from './endpoint.js';
import type { SipRequest, SipResponse } from './message.js';
import type { SessionTimerConfig } from './session-timer.js';
import type { Destination, Flow } from './transport/types.js';

export type DialogEndReason = 'remote-bye' | 'local-bye' | 'ack-timeout' | 'session-expired' | 'transport-error' | 'request-timeout';

export interface DialogEvents {
  /** The ACK for our 2xx arrived (UAS role; a UAC dialog is confirmed from the start). */
  confirmed(): void;
  /** The dialog is over; `request` is the peer's BYE when it ended it (its Reason header). */
  terminated(reason: DialogEndReason, request?: SipRequest): void;
}

/** What the dialog asks its owner (the call) for. */
export interface DialogHandler {
  /** A re-INVITE or UPDATE with (or without) an offer: return the answer SDP or a refusal. */
  offer(sdp: string | undefined, req: SipRequest): { sdp: string } | { status: number; reason: string };
  /** An INFO request: return the status to answer with. */
  info(req: SipRequest): { status: number; reason?: string };
  /** A REFER (RFC 3515): the status to answer with (202 to accept); absent: 405. */
  refer?(req: SipRequest): { status: number; reason?: string };
}

interface DialogCommon {
  endpoint: SipEndpoint;
  /** The path the dialog was set up on: default transport and connection for our requests. */
  flow: Flow;
  localContact: string;
  /** Our session description; kept so a refresh re-INVITE can re-offer the same session. */
  localSdp: string;
  sessionTimers: SessionTimerConfig;
  commonHeaders: Record<string, string>;
  logger: Logger;
  /**
   * Where our in-dialog requests physically go, when the owner knows better than §8.1.2: a
   * simulator that plays the proxies of its own route set. Undefined: the usual next hop.
   */
  route?: (d: { routeSet: readonly string[]; remoteTarget: string }) => Destination | undefined;
  /**
   * Routes at the head of the route set that this side plays itself (a simulator's own
   * proxies): left out of the Route headers, as those proxies would have consumed them (RFC 3261
   * §16.4) before the request reached the next real hop.
   */
  ownRoute?: (route: string) => boolean;
}

/** We answered `invite` with `okResponse` (§12.1.1). */
export interface UasDialogInit extends DialogCommon {
  role?: 'uas';
  invite: SipRequest;
  localTag: string;
  okResponse: SipResponse;
}

/** Our `invite` (as sent, with its From tag) was answered by `okResponse` (§12.1.2). */
export interface UacDialogInit extends DialogCommon {
  role: 'uac';
  invite: SipRequest;
  okResponse: SipResponse;
}

export type DialogInit = UasDialogInit | UacDialogInit;
