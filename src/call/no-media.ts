/**
 * The media of a call whose session is not open yet (between routing and the media plane's
 * answer, or when it could not be opened): nothing to send, nothing to close, zero counters. It
 * lets a Call exist, and end, from routing on without a "has media yet?" check at every use.
 */
import type { MediaSession, MediaSessionStats } from '../../media/types.js';

const ZERO: MediaSessionStats = Object.freeze({
  packetsIn: 0,
  packetsOut: 0,
  packetsDropped: 0,
  lost: 0,
  late: 0,
  dtmfIn: 0,
  dtmfOut: 0,
  engineFramesIn: 0,
  engineFramesOut: 0,
  engineReconnects: 0,
  backpressureDrops: 0,
  realtimeTrimmed: 0,
  engineClears: 0, engineRejected: 0,
});

const nothing = (): void => undefined;

export const NO_MEDIA: MediaSession = Object.freeze({
  localPort: 0,
  stats: ZERO,
  final: Promise.resolve(ZERO),
  update: nothing,
  start: nothing,
  dtmfFromCaller: nothing,
  engineEvent: nothing,
  dtmfToCaller: nothing,
  hold: nothing,
  engineError: nothing,
  signal: nothing,
  close: nothing,
});
