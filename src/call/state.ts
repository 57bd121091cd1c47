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
  | 'answer-failed';

/** RFC 3326 Reason header for the BYE we send, by cause (Q.850 cause codes). */
export const BYE_REASON: Partial<Record<EndReason, string>> = {
  'max-duration': 'Q.850;cause=16;text="Maximum call duration reached"',
  'ack-timeout': 'SIP;cause=408;text="No ACK received for 2xx"',
  'session-expired': 'SIP;cause=408;text="Session timer expired"',
  'engine-hangup': 'Q.850;cause=16;text="Virtual agent ended the call"',
  'engine-failed': 'Q.850;cause=41;text="AI engine unavailable"',
  'rtp-timeout': 'Q.850;cause=41;text="RTP timeout"',
  'media-failure': 'Q.850;cause=41;text="Media failure"',
  drain: 'Q.850;cause=16;text="Gateway shutting down"',
};
