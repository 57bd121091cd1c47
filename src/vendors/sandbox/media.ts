/**
 * RTP for the sandbox call placer: each call has its own UDP socket (the port in its
 * SDP), but every call is paced by ONE shared drift-free 20 ms clock, so thousands of concurrent
 * calls cost one timer. Audio is PCMU: a tone (one precomputed second shared by every call that
 * plays the same tone), digital silence, or nothing. What comes back is counted and the PCMU part
 * decoded into a bounded window for tone checks.
 */
import { randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import { decodeMuLaw, encodeMuLaw, MULAW_SILENCE } from '../../../media/codec/g711.js';
import { ToneGenerator } from '../../../media/dsp/tone.js';
import { parseRtp, isRtcp } from '../../../media/rtp.js';
import { buildRtp } from '../../../media/rtp-packet.js';
import { TelephoneEventReceiver } from '../../../media/dtmf/rfc4733.js';
import { DEFAULT_TELEPHONE_EVENT_PT, PT_PCMU } from './sdp.js';
import { guard } from '../../util/faults.js';

export const FRAME_MS = 20;
export const FRAME_SAMPLES = 160;
const SAMPLE_RATE = 8000;
/** At most this many late frames are sent in one burst; a longer stall is skipped, not replayed. */
const MAX_CATCH_UP = 5;

/** PCMU payload for the stream's n-th frame. */
export type AudioSource = (frame: number) => Uint8Array;

const SILENCE = Buffer.alloc(FRAME_SAMPLES, MULAW_SILENCE);
export const silenceSource: AudioSource = () => SILENCE;

const toneCache = new Map<string, Buffer>();

/**
 * A continuous tone from one precomputed second of PCMU (50 frames). Whole-hertz tones loop
 * seamlessly; others have one tiny phase step per second, harmless for Goertzel checks.
 */
export function toneSource(hz: number, amplitude: number): AudioSource {
  const key = `${hz}/${amplitude}`;
  let table = toneCache.get(key);
  if (!table) {
    const pcm = new ToneGenerator([hz], SAMPLE_RATE, amplitude).next(SAMPLE_RATE);
    table = Buffer.from(encodeMuLaw(pcm));
    if (toneCache.size >= 64) toneCache.clear();
    toneCache.set(key, table);
  }
  const frames = SAMPLE_RATE / FRAME_SAMPLES;
  const t = table;
  return (n) => {
    const off = (n % frames) * FRAME_SAMPLES;
    return t.subarray(off, off + FRAME_SAMPLES);
  };
}

export interface RtpCounters {
  sent: number;
  received: number;
  localPort: number;
}

/** One call's RTP: sends on the media clock's slots, receives on its own socket. */
export class RtpStream {
  /** Where to send; undefined until the answer says (or while the peer holds with 0.0.0.0). */
  remote?: { address: string; port: number };
  /** Whether the negotiated direction lets us send now. */
  sending = false;
  /** The next clock slot this stream owes a frame for. */
  nextSlot = 0;
  /** Payload type of telephone-event (RFC 4733) as negotiated. */
  dtmfPt = DEFAULT_TELEPHONE_EVENT_PT;
  /** Digits the gateway sent as RFC 4733 events, one per event. */
  readonly digits: string[] = [];
  private readonly dtmf = new TelephoneEventReceiver();
  private readonly ssrc = randomInt(0, 2 ** 32) >>> 0;
  private seq = randomInt(0, 2 ** 16);
  private ts = randomInt(0, 2 ** 32) >>> 0;
  private frame = 0;
  private first = true;
  /** Ring of decoded samples: grows by doubling up to keepSamples, then wraps. */
  private ring = new Int16Array(0);
  private ringStart = 0;
  private ringLength = 0;
  private closed = false;

  constructor(
    private readonly sock: dgram.Socket,
    readonly counters: RtpCounters,
    /** Null: this call sends no RTP at all. */
    readonly source: AudioSource | null,
    /** Most decoded samples kept (oldest dropped first). */
    private readonly keepSamples: number,
  ) {
    sock.on('message', guard('sandbox.placer.rtp', (m: Buffer) => this.onPacket(m)));
  }

  private onPacket(m: Buffer): void {
    if (isRtcp(m)) return;
    const h = parseRtp(m);
    if (!h) return;
    this.counters.received++;
    if (h.payloadType === this.dtmfPt) {
      const ev = this.dtmf.push(m.subarray(h.payloadOffset), h.timestamp, h.marker);
      if (ev) this.digits.push(ev.digit);
      return;
    }
    if (h.payloadType !== PT_PCMU || this.keepSamples <= 0) return;
    this.keep(decodeMuLaw(m.subarray(h.payloadOffset)));
  }

  private keep(pcm: Int16Array): void {
    const cap = this.keepSamples;
    if (pcm.length >= cap) {
      this.ensure(cap);
      this.ring.set(pcm.subarray(pcm.length - cap));
      this.ringStart = 0;
      this.ringLength = cap;
      return;
    }
    if (this.ringLength + pcm.length > this.ring.length && this.ring.length < cap) {
      this.ensure(Math.min(cap, Math.max(8000, 2 * this.ring.length, this.ringLength + pcm.length)));
    }
    const size = this.ring.length;
    // Overwrite the oldest samples when full.
    const overflow = Math.max(0, this.ringLength + pcm.length - size);
    this.ringStart = (this.ringStart + overflow) % size;
    this.ringLength -= overflow;
    const w = (this.ringStart + this.ringLength) % size;
    const first = Math.min(pcm.length, size - w);
    this.ring.set(pcm.subarray(0, first), w);
    if (first < pcm.length) this.ring.set(pcm.subarray(first), 0);
    this.ringLength += pcm.length;
  }

  /** Grow the ring to `size` samples, unwrapping what it holds. */
  private ensure(size: number): void {
    if (this.ring.length >= size) return;
    const kept = this.samples();
    this.ring = new Int16Array(size);
    this.ring.set(kept);
    this.ringStart = 0;
  }

  /** Send what is due up to `slot` (inclusive); on hold the timeline still advances silently. */
  pump(slot: number): void {
    if (this.closed || this.source === null) return;
    let owed = slot - this.nextSlot + 1;
    if (owed <= 0) return;
    if (owed > MAX_CATCH_UP) {
      // The event loop stalled: keep the RTP clock on wall time instead of bursting a backlog.
      const skip = owed - MAX_CATCH_UP;
      this.ts = (this.ts + skip * FRAME_SAMPLES) >>> 0;
      this.frame += skip;
      owed = MAX_CATCH_UP;
    }
    for (let i = 0; i < owed; i++) {
      const remote = this.remote;
      if (this.sending && remote) {
        const p = buildRtp({ payloadType: PT_PCMU, marker: this.first, sequence: this.seq, timestamp: this.ts, ssrc: this.ssrc }, this.source(this.frame));
        this.first = false;
        this.seq = (this.seq + 1) & 0xffff;
        this.counters.sent++;
        this.sock.send(p, remote.port, remote.address);
      }
      this.ts = (this.ts + FRAME_SAMPLES) >>> 0;
      this.frame++;
    }
    this.nextSlot = slot + 1;
  }

  /** The decoded PCMU received (at most the kept window), in arrival order. */
  samples(): Int16Array {
    const out = new Int16Array(this.ringLength);
    const size = this.ring.length;
    const first = Math.min(this.ringLength, size - this.ringStart);
    out.set(this.ring.subarray(this.ringStart, this.ringStart + first));
    if (first < this.ringLength) out.set(this.ring.subarray(0, this.ringLength - first), first);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sending = false;
    try {
      this.sock.close();
    } catch {
      /* already closed */
    }
  }
}

/**
 * The one pacing timer of a placer: slot k is due at t0 + 20k ms; each tick pumps every stream up
 * to the current slot, and the next tick is aimed at the next slot boundary (no drift). It runs
 * only while some stream is attached.
 */
export class MediaClock {
  private readonly streams = new Set<RtpStream>();
  private readonly t0 = performance.now();
  private timer?: NodeJS.Timeout;
  private scheduledSlot = 0;
  private lastSlot = -1;

  get size(): number {
    return this.streams.size;
  }

  private slotNow(): number {
    return Math.floor((performance.now() - this.t0) / FRAME_MS);
  }

  /** Attach a stream; its first frame goes out at once. */
  add(s: RtpStream): void {
    const slot = this.slotNow();
    s.nextSlot = slot;
    this.streams.add(s);
    s.pump(slot);
    this.schedule();
  }

  remove(s: RtpStream): void {
    this.streams.delete(s);
    if (this.streams.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private schedule(): void {
    if (this.timer || this.streams.size === 0) return;
    this.scheduledSlot = Math.max(this.slotNow(), this.lastSlot) + 1;
    this.timer = setTimeout(this.tick, Math.max(0, this.t0 + this.scheduledSlot * FRAME_MS - performance.now()));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    // A timer may fire a hair before the boundary as performance.now() sees it.
    const slot = Math.max(this.scheduledSlot, this.slotNow());
    this.lastSlot = slot;
    for (const s of this.streams) s.pump(slot);
    this.schedule();
  };

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.streams.clear();
  }
}
