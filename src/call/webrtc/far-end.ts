/**
 * The other end of a WebRTC-bridged call, whatever carries its signalling: a SIP.js client
 * registered over SIP-over-WebSocket (an INVITE), or a server-side engine attached to /webrtc
 * (JSON offer/answer). The media plane makes the offer; the far end answers it.
 */
import type { EngineControl, StreamMeta } from '../../../media/types.js';

export interface FarEndHandlers {
  /** The far end accepted: its SDP answer. */
  answer(sdp: string): void;
  /** A trickled ICE candidate (attach only; SIP.js answers carry all candidates). */
  candidate(candidate: string, sdpMid?: string): void;
  /** Refused or never answered (486, 480, timeout, socket gone before answering). */
  failed(reason: string): void;
  /** Call control from the far end (hang-up with a term code, transfer, DTMF to play, hold). */
  control(ev: EngineControl): void;
  /** Gone after answering (BYE, socket closed): the call ends through its one end path. */
  gone(reason: string): void;
}

export interface FarEnd {
  /** Our offer, with the call's metadata (ids, caller, screen pop as of now). */
  offer(sdp: string, meta: StreamMeta): void;
  /**
   * Idempotent: tell the far end the call is over (BYE, CANCEL, or a `call-ended` message).
   * `detail` says what went wrong when the media plane gave up on the far end (a bad answer,
   * ICE or DTLS timing out), so the far end learns why.
   */
  end(reason: string, detail?: string): void;
}

/** Where far ends for one engine reference come from. */
export interface FarEndSource {
  /** Why a call to this agent cannot be bridged now, or undefined when it can. */
  unavailable(agentId: string): string | undefined;
  create(agentId: string, callId: string, handlers: FarEndHandlers): FarEnd;
}
