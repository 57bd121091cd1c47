/**
 * DTMF towards the WebRTC far end. With a negotiated telephone-event: RFC 4733 packet trains,
 * one packet per 20 ms, the End packet three times (§2.5.1.4), every packet of one event stamped
 * with the event's start timestamp (§2.5.1.2) in the audio clock (§2.1: 48 kHz with Opus).
 * Without one: the digit's tone pair in band (the link mixes it into the audio it sends).
 */
import { dtmfToneMuLaw } from '../engine/builtin.js';
import { TelephoneEventSender } from '../dtmf/rfc4733.js';

export interface DtmfOutPort {
  /** Send one telephone-event payload with the given RTP timestamp. */
  sendEvent(payload: Buffer, marker: boolean, timestamp: number): void;
  /** The stream's RTP timestamp for "now" (start of a new event). */
  timestampNow(): number;
  /** Play these mu-law bytes in band instead of the next outgoing audio. */
  playInBand(mulaw: Buffer): void;
}

/** A key press as long as the gateway plays to callers (session.ts uses the same). */
const DIGIT_MS = 160;
/** Pause between digits, so the far end's detector sees separate presses. */
const GAP_MS = 60;

export class DtmfOut {
  private readonly queue: string[] = [];
  private timer?: NodeJS.Timeout;
  private readonly sender?: TelephoneEventSender;
  private lastEventTs?: number;

  constructor(
    te: { payloadType: number; clockRate: number } | undefined,
    private readonly port: DtmfOutPort,
  ) {
    if (te) this.sender = new TelephoneEventSender(te.payloadType, te.clockRate);
  }

  push(digit: string): void {
    if (!this.sender) {
      const tone = dtmfToneMuLaw(digit);
      if (tone) this.port.playInBand(tone);
      return;
    }
    this.queue.push(digit);
    if (!this.timer) this.next();
  }

  private next(): void {
    this.timer = undefined;
    const digit = this.queue.shift();
    if (digit === undefined) return;
    let pk;
    try {
      pk = this.sender!.packets(digit, DIGIT_MS);
    } catch {
      return this.next(); // not a DTMF digit: skip it
    }
    let ts = this.port.timestampNow();
    // A new event needs a new timestamp: receivers tell events apart by it (RFC 4733 §2.5.1.2).
    if (ts === this.lastEventTs) ts = (ts + 1) >>> 0;
    this.lastEventTs = ts;
    let i = 0;
    const step = (): void => {
      const p = pk[i++]!;
      this.port.sendEvent(p.payload, p.marker, ts);
      this.timer = setTimeout(i < pk.length ? step : () => this.next(), i < pk.length ? 20 : GAP_MS);
    };
    step();
  }

  stop(): void {
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
