/**
 * The call's state machine. One transition function; anything else is refused.
 *
 *   ringing --answered--> active <--hold/resume--> held
 *      |                    |                        |
 *      +-------end----------+----------end-----------+--> ended
 *
 * `ringing` covers the time between the INVITE being admitted and our 200 OK.
 */
export type CallState = 'ringing' | 'active' | 'held' | 'ended';
export type CallInput = 'answered' | 'hold' | 'resume' | 'end';

export class IllegalTransition extends Error {
  override readonly name = 'IllegalTransition';
}

const TABLE: Record<CallState, Partial<Record<CallInput, CallState>>> = {
  ringing: { answered: 'active', end: 'ended' },
  active: { hold: 'held', resume: 'active', end: 'ended' },
  held: { hold: 'held', resume: 'active', end: 'ended' },
  ended: {},
};

export function transition(from: CallState, input: CallInput): CallState {
  const to = TABLE[from][input];
  if (!to) throw new IllegalTransition(`call cannot '${input}' while ${from}`);
  return to;
}

/** Why a call ended: every cause funnels into Call.end(reason). */
export type EndReason =
  | 'caller-bye'
  | 'caller-cancel'
  | 'max-duration'
  | 'ack-timeout'
  | 'session-expired'
  | 'request-timeout'
  | 'transport-error'
  | 'engine-hangup'
  | 'engine-failed'
  | 'rtp-timeout'
  | 'media-failure'
  | 'transferred'
  | 'drain'
  | 'answer-failed'
  /** Refused after routing (no SDP offer, SDP not acceptable, no media, no WebRTC far end). */
  | 'refused'
  /** A bug during call setup or an action: contained by the fault boundary, the call ended. */
  | 'internal-error'
  /** The contact center released the call on its side, or never accepted it. */
  | 'platform-ended'
  /** RELEASE_CALL through the REST API (Call.endedBy names the API's caller). */
  | 'api-release'
  /** Refused early because the gateway is overloaded (src/call/overload.ts): 503 + Retry-After. */
  | 'overload';

/** Who ended a call, by reason (the REST API's caller and the platform are named where known). */
export function endedByFor(reason: EndReason): string {
  switch (reason) {
    case 'caller-bye':
    case 'caller-cancel':
      return 'caller';
    case 'engine-hangup':
    case 'engine-failed':
    case 'transferred':
      return 'engine';
    case 'platform-ended':
      return 'platform';
    case 'api-release':
      return 'api';
    default:
      // Timers (max duration, session timer, ACK, RTP), drain, refusals and failures.
      return 'gateway';
  }
}

/** A SIP refusal of an INVITE that is never answered. */
export interface Refusal {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

/** The final response an INVITE never answered gets when its call ends for `reason`. */
export function refusalFor(reason: EndReason): Refusal {
  switch (reason) {
    case 'caller-cancel':
      // The transaction layer has sent 487 already (RFC 3261 §9.2); this is never sent.
      return { status: 487, reason: 'Request Terminated' };
    case 'drain':
      return { status: 503, reason: 'Gateway draining for shutdown' };
    case 'overload':
      return { status: 503, reason: 'Gateway overloaded' };
    case 'internal-error':
      return { status: 500, reason: 'Internal error while setting up the call' };
    case 'engine-failed':
    case 'media-failure':
      return { status: 503, reason: 'AI engine unavailable' };
    case 'platform-ended':
      return { status: 480, reason: 'The contact center released the call before it was answered' };
    default:
      return { status: 480, reason: `Call ended before it was answered (${reason})` };
  }
}

/** RFC 3326 Reason header for the BYE we send, by cause (Q.850 cause codes). */
export const BYE_REASON: Partial<Record<EndReason, string>> = {
  'max-duration': 'Q.850;cause=16;text="Maximum call duration reached"',
  'ack-timeout': 'SIP;cause=408;text="No ACK received for 2xx"',
  'session-expired': 'SIP;cause=408;text="Session timer expired"',
  'engine-hangup': 'Q.850;cause=16;text="Virtual agent ended the call"',
  // For the carrier the virtual agent's side ended the call either way (who did is in our record).
  'api-release': 'Q.850;cause=16;text="Virtual agent ended the call"',
  'engine-failed': 'Q.850;cause=41;text="AI engine unavailable"',
  'rtp-timeout': 'Q.850;cause=41;text="RTP timeout"',
  'media-failure': 'Q.850;cause=41;text="Media failure"',
  drain: 'Q.850;cause=16;text="Gateway shutting down"',
};
