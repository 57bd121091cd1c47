/**
 * Small stream helpers of the WebRTC link: our RTP timestamp clock, and 20 ms re-framing of what
 * the far end sends (it may use another ptime than ours).
 */
import { randomInt } from 'node:crypto';

/** A pause longer than this many 20 ms frames starts a new talkspurt. */
const GAP_FRAMES = 3;

/**
 * Timestamps of our outgoing stream in the negotiated codec's clock: 20 ms frames advance it by
 * rate/50 (960 for Opus: RFC 7587 §4.1 keeps 48 kHz whatever is encoded; 160 for G.711). The
 * session hands frames over in bursts when its jitter buffer releases several, so timestamps
 * count frames, not arrival times; only a real pause (the caller's RTP stopped) moves the
 * clock forward to media time and sets the marker bit (RFC 3551 §4.1: first packet of a talkspurt).
 */
export class RtpClock {
  private readonly base = randomInt(0, 2 ** 32); // random initial value, RFC 3550 §5.1
  private readonly perFrame: number;
  private frame?: number;
  private lastAt = 0;

  constructor(readonly rate: number) {
    this.perFrame = rate / 50;
  }

  /** Timestamp and marker for the next 20 ms frame; `mediaMs` is the session's media time. */
  next(mediaMs: number, now = performance.now()): { ts: number; marker: boolean } {
    const due = Math.round(mediaMs / 20);
    let frame = this.frame === undefined ? due : this.frame + 1;
    const marker = this.frame === undefined || due - frame > GAP_FRAMES;
    if (marker) frame = Math.max(frame, due);
    this.frame = frame;
    this.lastAt = now;
    return { ts: (this.base + frame * this.perFrame) >>> 0, marker };
  }

  /** The timestamp of "now" (for a DTMF event's start, RFC 4733 §2.5.1.2). */
  now(now = performance.now()): number {
    if (this.frame === undefined) return this.base;
    const since = Math.round(((now - this.lastAt) * this.rate) / 1000);
    return (this.base + this.frame * this.perFrame + since) >>> 0;
  }
}

/** Cuts any run of mu-law into 160-byte frames; a 20 ms packet passes through without a copy. */
export class Reframer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly out: (frame: Buffer) => void,
    private readonly size = 160,
  ) {}

  push(data: Buffer): void {
    if (this.pending.length === 0 && data.length === this.size) return this.out(data);
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    while (this.pending.length >= this.size) {
      this.out(Buffer.from(this.pending.subarray(0, this.size)));
      this.pending = this.pending.subarray(this.size);
    }
  }
}
