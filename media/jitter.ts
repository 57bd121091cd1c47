/**
 * Adaptive reorder/jitter buffer for caller -> engine audio.
 *
 * Unlike a playout buffer it adds no delay on a clean network: a packet that is the next
 * expected sequence number is released at once. Only when a sequence number is missing are the
 * packets after it held, until the missing one turns up or the wait exceeds `targetMs`; then the
 * hole is reported as `lost` (so the consumer can conceal it) and the held packets flow. No
 * packet is ever held longer than `targetMs` (given poll() is called by nextDeadline()).
 *
 * The target adapts between minMs and maxMs from the RFC 3550 §A.8 interarrival jitter
 * estimate: target = clamp(3 * jitter + frameMs / 2, minMs, maxMs).
 */

export interface JitterPacket {
  sequence: number;
  timestamp: number;
  payload: Uint8Array;
  ssrc: number;
}

export type JitterOut =
  | { kind: 'frame'; sequence: number; timestamp: number; payload: Uint8Array }
  | { kind: 'lost'; sequence: number; timestamp: number };

export interface JitterOptions {
  minMs: number;
  maxMs: number;
  frameMs: number;
  clockRate: number;
}

export interface JitterStats {
  received: number;
  released: number;
  lost: number;
  /** Dropped: arrived after its slot was declared lost, or too far behind to place. */
  late: number;
  /** Dropped: already released or already held. */
  duplicate: number;
  /** Arrived after a higher sequence number yet still released in order. */
  reordered: number;
  resyncs: number;
  jitterMs: number;
}

/** A forward jump larger than this (in packets) is a new stream, not a loss burst. */
const MAX_FORWARD_JUMP = 50;
/** How far back (in packets) we remember what happened to each sequence number. */
const HISTORY = 100;

const RELEASED = 1;
const LOST = 2;
/** Ring slot of an extended sequence number (which may be negative). */
const slot = (ext: number): number => ((ext % HISTORY) + HISTORY) % HISTORY;
/** What poll() returns when nothing is due (never modified). */
const NOTHING: JitterOut[] = Object.freeze([]) as unknown as JitterOut[];

interface Held {
  packet: JitterPacket;
  arrivalMs: number;
}

/** Signed difference a - b of two 16-bit sequence numbers, in [-32768, 32767]. */
function seqDiff(a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** Signed difference of two 32-bit RTP timestamps. */
function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class JitterBuffer {
  readonly stats: JitterStats = {
    received: 0,
    released: 0,
    lost: 0,
    late: 0,
    duplicate: 0,
    reordered: 0,
    resyncs: 0,
    jitterMs: 0,
  };

  private ssrc: number | null = null;
  /**
   * Extended (unwrapped) sequence number of the next frame to release. Extended numbers are
   * plain integers that keep counting past 65535, so comparisons need no wrap logic.
   */
  private nextSeq = 0;
  private highestSeq = 0;
  /** Timestamp of the last released or lost slot, for interpolating lost timestamps. */
  private lastTs = 0;
  private held = new Map<number, Held>();
  /**
   * What became of the last HISTORY extended sequence numbers behind nextSeq: a ring indexed by
   * sequence number, holding which number a slot is about (NaN: none) and its fate.
   */
  private readonly historySeq = new Float64Array(HISTORY).fill(NaN);
  private readonly historyFate = new Uint8Array(HISTORY);
  /**
   * RFC 3550 §A.1-style probation: after a packet from behind that we know nothing about (a
   * stray, or a sender that restarted its numbering), the sequence number that would confirm a
   * restart if it came next.
   */
  private strayNext: number | null = null;

  /** §A.8 estimator state, in timestamp units. */
  private jitter = 0;
  private prevArrivalMs: number | null = null;
  private prevTs = 0;

  constructor(private readonly opts: JitterOptions) {
    if (!(opts.minMs > 0 && opts.maxMs >= opts.minMs && opts.frameMs > 0 && opts.clockRate > 0)) {
      throw new RangeError('JitterBuffer: need 0 < minMs <= maxMs, frameMs > 0, clockRate > 0');
    }
  }

  /** Current maximum wait for a missing packet. */
  get targetMs(): number {
    const { minMs, maxMs, frameMs } = this.opts;
    return Math.min(maxMs, Math.max(minMs, 3 * this.stats.jitterMs + frameMs / 2));
  }

  push(p: JitterPacket, nowMs: number): JitterOut[] {
    this.stats.received++;
    const out = this.held.size ? this.expire(nowMs) : [];

    if (this.ssrc === null || p.ssrc !== this.ssrc) {
      if (this.ssrc !== null) this.resync(out);
      this.start(p, nowMs, out);
      return out;
    }

    const ext = this.nextSeq + seqDiff(p.sequence, this.nextSeq & 0xffff);
    const ahead = ext - this.nextSeq;

    if (ahead < 0) {
      const fate = this.fate(ext);
      if (fate === undefined && this.strayNext === p.sequence) {
        // Second in-sequence packet from nowhere we know: the sender restarted its numbering.
        this.resync(out);
        this.start(p, nowMs, out);
        return out;
      }
      if (fate === 'released') this.stats.duplicate++;
      else this.stats.late++;
      if (fate === undefined) this.strayNext = (p.sequence + 1) & 0xffff;
      else this.updateJitter(p, nowMs);
      return out;
    }
    this.strayNext = null;

    if (ahead > MAX_FORWARD_JUMP) {
      this.resync(out);
      this.start(p, nowMs, out);
      return out;
    }
    if (this.held.has(ext)) {
      this.stats.duplicate++;
      return out;
    }
    this.updateJitter(p, nowMs);
    if (ext < this.highestSeq) this.stats.reordered++;
    else this.highestSeq = ext;

    this.held.set(ext, { packet: p, arrivalMs: nowMs });
    this.releaseRun(out);
    return out;
  }

  /** Release what has waited long enough; call at nextDeadline(). */
  poll(nowMs: number): JitterOut[] {
    // Nothing held (the normal case on a clean network): nothing to do, nothing allocated.
    return this.held.size ? this.expire(nowMs) : NOTHING;
  }

  /** When poll() has work to do, or null while nothing is held. */
  nextDeadline(): number | null {
    if (this.held.size === 0) return null;
    let first = Infinity;
    for (const h of this.held.values()) first = Math.min(first, h.arrivalMs);
    return first + this.targetMs;
  }

  /** While the oldest held packet has waited `targetMs`, give up on the hole in front of it. */
  private expire(nowMs: number): JitterOut[] {
    const out: JitterOut[] = [];
    for (let due = this.nextDeadline(); due !== null && nowMs >= due; due = this.nextDeadline()) {
      const firstHeld = Math.min(...this.held.keys());
      const after = this.held.get(firstHeld)!.packet.timestamp;
      const before = this.lastTs;
      const span = firstHeld - this.nextSeq + 1;
      for (let k = 1; this.nextSeq < firstHeld; k++) {
        // Spread the hole's timestamps evenly between its neighbours.
        const ts = (before + Math.round((tsDiff(after, before) * k) / span)) >>> 0;
        out.push({ kind: 'lost', sequence: this.nextSeq & 0xffff, timestamp: ts });
        this.stats.lost++;
        this.remember(this.nextSeq, 'lost');
        this.lastTs = ts;
        this.nextSeq++;
      }
      this.releaseRun(out);
    }
    return out;
  }

  /** Release nextSeq and everything consecutive after it that is held. */
  private releaseRun(out: JitterOut[]): void {
    for (let h = this.held.get(this.nextSeq); h; h = this.held.get(this.nextSeq)) {
      this.held.delete(this.nextSeq);
      const { sequence, timestamp, payload } = h.packet;
      out.push({ kind: 'frame', sequence, timestamp, payload });
      this.stats.released++;
      this.remember(this.nextSeq, 'released');
      this.lastTs = timestamp;
      this.nextSeq++;
    }
  }

  private remember(ext: number, fate: 'released' | 'lost'): void {
    const i = slot(ext);
    this.historySeq[i] = ext;
    this.historyFate[i] = fate === 'released' ? RELEASED : LOST;
  }

  private fate(ext: number): 'released' | 'lost' | undefined {
    const i = slot(ext);
    if (this.historySeq[i] !== ext) return undefined;
    return this.historyFate[i] === RELEASED ? 'released' : 'lost';
  }

  /** (Re)start the stream at packet p, which is released at once. */
  private start(p: JitterPacket, nowMs: number, out: JitterOut[]): void {
    this.ssrc = p.ssrc;
    this.nextSeq = p.sequence;
    this.highestSeq = p.sequence;
    this.historySeq.fill(NaN);
    this.strayNext = null;
    this.prevArrivalMs = null;
    this.updateJitter(p, nowMs);
    this.held.set(this.nextSeq, { packet: p, arrivalMs: nowMs });
    this.releaseRun(out);
  }

  /** Old stream is over: flush what is held in order, without loss reports. */
  private resync(out: JitterOut[]): void {
    this.stats.resyncs++;
    for (const seq of [...this.held.keys()].sort((a, b) => a - b)) {
      this.nextSeq = seq;
      this.releaseRun(out);
    }
  }

  /** RFC 3550 §A.8: J += (|D(i-1, i)| - J) / 16, D from arrival vs RTP timestamp spacing. */
  private updateJitter(p: JitterPacket, nowMs: number): void {
    if (this.prevArrivalMs !== null) {
      const arrivalUnits = ((nowMs - this.prevArrivalMs) * this.opts.clockRate) / 1000;
      const d = arrivalUnits - tsDiff(p.timestamp, this.prevTs);
      this.jitter += (Math.abs(d) - this.jitter) / 16;
      this.stats.jitterMs = (this.jitter * 1000) / this.opts.clockRate;
    }
    this.prevArrivalMs = nowMs;
    this.prevTs = p.timestamp;
  }
}
