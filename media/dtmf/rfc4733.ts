/**
 * RFC 4733 telephone-event payload (DTMF over RTP): a receiver that turns the packet train of a
 * key press into one digit report, and a sender that produces the packet train for one digit.
 *
 * Payload (RFC 4733 §2.3): event (8 bits) | E (1) | R (1) | volume (6) | duration (16).
 */

const DIGITS = '0123456789*#ABCD';

/** Event code -> DTMF digit (RFC 4733 §3 event codes: 0-9, * = 10, # = 11, A-D = 12-15), null otherwise. */
export function eventToDigit(code: number): string | null {
  return Number.isInteger(code) && code >= 0 && code < DIGITS.length ? DIGITS[code]! : null;
}

/** DTMF digit -> event code (case-insensitive for A-D), null for anything else. */
export function digitToEvent(digit: string): number | null {
  if (digit.length !== 1) return null;
  const i = DIGITS.indexOf(digit.toUpperCase());
  return i < 0 ? null : i;
}

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  /** Duration so far, in RTP timestamp units (RFC 4733 §2.3.5). */
  duration: number;
}

/** Decode the first 4 octets; null when too short. */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | null {
  if (payload.length < 4) return null;
  return {
    event: payload[0]!,
    end: (payload[1]! & 0x80) !== 0,
    volume: payload[1]! & 0x3f,
    duration: (payload[2]! << 8) | payload[3]!,
  };
}

export function buildTelephoneEvent(e: TelephoneEvent): Buffer {
  const b = Buffer.alloc(4);
  b[0] = e.event & 0xff;
  b[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f); // R bit stays 0 (§2.3.3)
  b.writeUInt16BE(e.duration & 0xffff, 2);
  return b;
}

export interface DigitReport {
  digit: string;
  durationMs: number;
}

interface TrackedEvent {
  timestamp: number;
  event: number;
  /** Longest duration seen, timestamp units. */
  duration: number;
  reported: boolean;
}

/** How many already-reported events to remember, to swallow their late retransmissions. */
const REMEMBERED = 16;

/**
 * Collapses the packets of each event into a single report. All packets of one event share its
 * RTP timestamp (RFC 4733 §2.5.1.2), so the timestamp, not the marker bit, identifies it: a lost
 * first packet (the one with the marker) does not lose the digit.
 *
 * A digit is reported when the first End packet of its event arrives; the End retransmissions
 * (§2.5.1.4) and any late updates are then ignored. When a new event starts while the previous
 * one never saw an End packet (all its End packets lost), the previous one is reported then.
 */
export class TelephoneEventReceiver {
  private current: TrackedEvent | null = null;
  private recentlyReported: number[] = [];
  /** Reports waiting to be returned (only when one packet completes two events). */
  private ready: DigitReport[] = [];
  private malformedCount = 0;

  constructor(private readonly clockRate = 8000) {}

  /** Payloads that were too short or carried a non-DTMF event code. */
  get malformed(): number {
    return this.malformedCount;
  }

  /**
   * Feed one telephone-event payload. `marker` is accepted for completeness; it only flags the
   * start of an event, which the timestamp already tells us.
   */
  push(payload: Uint8Array, rtpTimestamp: number, marker: boolean): DigitReport | null {
    void marker;
    const e = parseTelephoneEvent(payload);
    if (!e || eventToDigit(e.event) === null) {
      this.malformedCount++;
      return null;
    }
    const ts = rtpTimestamp >>> 0;
    const cur = this.current;
    if (cur && cur.timestamp === ts) {
      cur.duration = Math.max(cur.duration, e.duration);
      if (e.end && !cur.reported) this.report(cur);
    } else if (!this.recentlyReported.includes(ts)) {
      // A new event. If the previous one never ended, its End packets were lost: report it now.
      if (cur && !cur.reported) this.report(cur);
      const next: TrackedEvent = { timestamp: ts, event: e.event, duration: e.duration, reported: false };
      this.current = next;
      if (e.end) this.report(next);
    }
    return this.ready.shift() ?? null;
  }

  /** Report the event in progress, if any, as if it had ended now (call at end of stream). */
  flush(): DigitReport[] {
    if (this.current && !this.current.reported) this.report(this.current);
    const out = this.ready;
    this.ready = [];
    return out;
  }

  private report(ev: TrackedEvent): void {
    ev.reported = true;
    this.recentlyReported.push(ev.timestamp);
    if (this.recentlyReported.length > REMEMBERED) this.recentlyReported.shift();
    this.ready.push({ digit: eventToDigit(ev.event)!, durationMs: (ev.duration * 1000) / this.clockRate });
  }
}

export interface TelephoneEventPacket {
  payload: Buffer;
  marker: boolean;
  /** Every packet of the event carries the event's start timestamp (RFC 4733 §2.5.1.2). */
  timestampOffsetSamples: 0;
  /** When to send it, relative to the first packet. */
  sendOffsetMs: number;
}

/** Update interval between packets of one event. */
const PACKET_INTERVAL_MS = 20;
/** The final (End) packet is sent three times (RFC 4733 §2.5.1.4). */
const END_REPEATS = 3;

/**
 * Builds the packet train for one digit. The first packet goes out one interval into the tone
 * and says so in its duration; then one update per interval with the duration so far; then the
 * End packet with the final duration, three times, one interval apart. The caller stamps all of
 * them with the same RTP timestamp (the tone's start) and its own sequence numbers.
 */
export class TelephoneEventSender {
  constructor(
    readonly payloadType: number,
    private readonly clockRate = 8000,
  ) {}

  /**
   * `durationMs` is capped so the duration fits the 16-bit field (8.19 s at 8 kHz); longer
   * events would need the segmenting of RFC 4733 §2.5.1.3, which DTMF never needs.
   */
  packets(digit: string, durationMs: number, volume = 10): TelephoneEventPacket[] {
    const event = digitToEvent(digit);
    if (event === null) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
    const samplesPerMs = this.clockRate / 1000;
    const total = Math.min(0xffff, Math.max(1, Math.round(durationMs * samplesPerMs)));
    const step = PACKET_INTERVAL_MS * samplesPerMs;
    const vol = Math.min(63, Math.max(0, Math.round(volume))); // -dBm0, 6 bits (§2.3.4)

    const out: TelephoneEventPacket[] = [];
    const add = (duration: number, end: boolean): void => {
      const i = out.length;
      out.push({
        payload: buildTelephoneEvent({ event, end, volume: vol, duration }),
        marker: i === 0,
        timestampOffsetSamples: 0,
        sendOffsetMs: i * PACKET_INTERVAL_MS,
      });
    };
    for (let d = step; d < total; d += step) add(d, false);
    for (let i = 0; i < END_REPEATS; i++) add(total, true);
    return out;
  }
}
