/** What the call manager counts for /metrics and /status. */
import type { EndReason } from './state.js';

export class CallStats {
  refusals = new Map<number, number>();
  ended = new Map<EndReason, number>();
  answered = 0;
  /** Calls refused early for overload, by the signal over its limit. */
  shed = new Map<string, number>();
  /** Summed final media counters of ended calls (the media plane's last word on each). */
  media = { packetsIn: 0, packetsOut: 0, dtmfIn: 0, dtmfOut: 0, engineFramesIn: 0, engineFramesOut: 0 };
}
