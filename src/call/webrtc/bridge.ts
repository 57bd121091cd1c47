/**
 * Joins a call whose engine is a WebRTC far end: the media plane's offer goes to the far end
 * (SIP.js INVITE or /webrtc attach), its answer and candidates come back to the media plane, and
 * its call control and departure go through the call's own paths, so hang-up, term code and the
 * agent's return to Ready are exactly those of a stream engine.
 */
import type { MediaSession } from '../../../media/types.js';
import type { Call } from '../call.js';
import type { FarEnd, FarEndSource } from './far-end.js';

export function bridgeWebRtc(call: Call, session: MediaSession, source: FarEndSource, meta: Parameters<FarEnd['offer']>[1]): FarEnd {
  const log = call.log;
  const far = source.create(call.info.agentId, call.info.callId, {
    answer: (sdp) => {
      log.info('WebRTC far end answered');
      session.signal({ type: 'answer', sdp });
    },
    candidate: (candidate, sdpMid) => session.signal({ type: 'candidate', candidate, ...(sdpMid ? { sdpMid } : {}) }),
    // The media plane turns this into the engine failure policy (hang up, transfer or announce).
    failed: (reason) => {
      log.warn({ reason }, 'WebRTC far end did not answer');
      session.signal({ type: 'failed', reason });
    },
    control: (ev) => {
      // DTMF and hold act on the media directly; the rest is the call's (hang-up, transfer).
      if (ev.type === 'dtmf') return session.dtmfToCaller(ev.digits);
      if (ev.type === 'hold' || ev.type === 'unhold') return session.hold(ev.type === 'hold');
      void call.control(ev);
    },
    gone: (reason) => {
      log.info({ reason }, 'WebRTC far end left the call');
      void call.end('engine-hangup');
    },
  });
  // Why the media plane gave up on the far end (answer without fingerprint, ICE timeout, ...):
  // the far end is told in its BYE's Reason or its `call-ended`.
  let detail: string | undefined;
  const callOnEnd = session.onEnd;
  session.onEnd = (reason, d) => {
    if (reason === 'engine-failed') detail = d;
    callOnEnd?.(reason, d);
  };
  session.onSignal = (s) => {
    if (s.type === 'offer') far.offer(s.sdp, { ...meta, custom: { ...meta.custom } });
  };
  call.events$.subscribe({
    next: (ev) => {
      if (ev.type === 'ended') far.end(ev.reason, detail);
    },
    complete: () => far.end('call ended'),
  });
  return far;
}
