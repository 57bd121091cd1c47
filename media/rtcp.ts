/**
 * RTCP (RFC 3550 §6): receiver-side statistics, building SR/RR compound packets, and parsing
 * SR, RR, SDES and BYE.
 */

// ---------------------------------------------------------------------------------------------
// NTP time (RFC 3550 §4): seconds since 1900-01-01 as a 32.32 fixed-point number.

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 2 ** 32;

export interface NtpTimestamp {
  /** Integer seconds since 1900 (mod 2^32). */
  seconds: number;
  /** Fraction of a second in units of 2^-32 s. */
  fraction: number;
}

/** 64-bit NTP timestamp of a wall-clock time in Unix milliseconds. */
export function ntpFromMs(ms: number): NtpTimestamp {
  const totalS = ms / 1000 + NTP_UNIX_OFFSET_S;
  const whole = Math.floor(totalS);
  const fraction = Math.min(TWO_32 - 1, Math.round((totalS - whole) * TWO_32));
  return { seconds: whole >>> 0, fraction: fraction >>> 0 };
}

/** Unix milliseconds of an NTP timestamp (era 0, i.e. until 2036). */
export function ntpToMs(t: NtpTimestamp): number {
  return (t.seconds - NTP_UNIX_OFFSET_S) * 1000 + (t.fraction / TWO_32) * 1000;
}

/** The middle 32 bits of the NTP timestamp (16.16 fixed point), as carried in LSR (§6.4.1). */
export function ntpMiddle32(t: NtpTimestamp): number {
  return (((t.seconds & 0xffff) << 16) | (t.fraction >>> 16)) >>> 0;
}

/** ntpMiddle32 of a wall-clock time in Unix milliseconds. */
export function ntpMiddle32FromMs(ms: number): number {
  return ntpMiddle32(ntpFromMs(ms));
}

/**
 * Round-trip time in ms from a report block received at `arrivalMs` (§6.4.1): A - LSR - DLSR,
 * all in 1/65536 s. Null when the block carries no LSR yet.
 */
export function roundTripMs(arrivalMs: number, lsr: number, dlsr: number): number | null {
  if (lsr === 0) return null;
  const units = (ntpMiddle32FromMs(arrivalMs) - lsr - dlsr) | 0;
  return (units * 1000) / 65536;
}

// ---------------------------------------------------------------------------------------------
// Reception statistics (RFC 3550 §A.1, §A.3, §A.8).

/** §A.1: a jump larger than this is not a gap but a restarted sender. */
const MAX_DROPOUT = 3000;
/** §A.1: packets this far behind the highest are counted as reordered/duplicated. */
const MAX_MISORDER = 100;

export interface ReceptionReport {
  /** Fraction lost since the previous report, 8-bit fixed point (0-255 = 0-255/256), §6.4.1. */
  fractionLost: number;
  /** Cumulative packets lost (expected - received), clamped to 24-bit signed. */
  cumulativeLost: number;
  /** Cycles << 16 | highest sequence number received. */
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the last SR's NTP timestamp, 0 if none (§6.4.1). */
  lsr: number;
  /** Delay since that SR in 1/65536 s, 0 if none. */
  dlsr: number;
}

/** What we know about one incoming source, for the report block we send about it. */
export class ReceptionStats {
  private started = false;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = -1;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitterUnits = 0;
  private lastArrivalMs = 0;
  private lastTs = 0;
  private lastSr: { lsr: number; arrivalMs: number } | null = null;

  /** Record one RTP packet. */
  onPacket(seq: number, rtpTimestamp: number, arrivalMs: number, clockRate: number): void {
    seq &= 0xffff;
    if (!this.started) {
      this.restart(seq);
      this.started = true;
    } else {
      const udelta = (seq - this.maxSeq) & 0xffff;
      if (udelta < MAX_DROPOUT) {
        // In order, possibly with a gap: §A.1 counts a wrap when the number goes down.
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      } else if (udelta <= 0x10000 - MAX_MISORDER) {
        // A very large jump. Believe it only if the next packet follows it (§A.1).
        if (seq !== this.badSeq) {
          this.badSeq = (seq + 1) & 0xffff;
          return;
        }
        this.restart(seq);
      }
      // Otherwise a duplicate or reordered packet: counted as received, no change to maxSeq.
    }
    this.received++;
    this.updateJitter(rtpTimestamp >>> 0, arrivalMs, clockRate);
  }

  /** Note a Sender Report from this source, for LSR/DLSR in our next report. */
  onSenderReport(ntp: NtpTimestamp, arrivalMs: number): void {
    this.lastSr = { lsr: ntpMiddle32(ntp), arrivalMs };
  }

  /** Interarrival jitter now, timestamp units (§6.4.1), without starting a report interval. */
  get jitter(): number {
    return Math.floor(this.jitterUnits);
  }

  /** The report block values; also starts the next interval for fractionLost (§A.3). */
  report(nowMs: number): ReceptionReport {
    const extendedMax = this.cycles + this.maxSeq;
    const expected = this.started ? extendedMax - this.baseSeq + 1 : 0;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    return {
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: Math.max(-0x800000, Math.min(0x7fffff, lost)),
      extendedHighestSeq: extendedMax >>> 0,
      jitter: Math.floor(this.jitterUnits),
      lsr: this.lastSr?.lsr ?? 0,
      dlsr: this.lastSr ? Math.max(0, Math.round(((nowMs - this.lastSr.arrivalMs) * 65536) / 1000)) >>> 0 : 0,
    };
  }

  private restart(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.cycles = 0;
    this.badSeq = -1;
    this.received = 0;
    this.expectedPrior = 0;
    this.receivedPrior = 0;
  }

  /** §A.8: D = (Rj - Ri) - (Sj - Si) in timestamp units; J += (|D| - J) / 16. */
  private updateJitter(ts: number, arrivalMs: number, clockRate: number): void {
    if (this.received > 1) {
      const d = ((arrivalMs - this.lastArrivalMs) * clockRate) / 1000 - ((ts - this.lastTs) | 0);
      this.jitterUnits += (Math.abs(d) - this.jitterUnits) / 16;
    }
    this.lastArrivalMs = arrivalMs;
    this.lastTs = ts;
  }
}

// ---------------------------------------------------------------------------------------------
// Packets.

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
const SDES_CNAME = 1;

/** One report block (§6.4.1): the reception report about source `ssrc`. */
export interface ReportBlock extends ReceptionReport {
  ssrc: number;
}

export interface SdesChunk {
  ssrc: number;
  items: { type: number; text: string }[];
}

export type RtcpPacket =
  | {
      type: 'sr';
      ssrc: number;
      ntp: NtpTimestamp;
      rtpTimestamp: number;
      packetCount: number;
      octetCount: number;
      reports: ReportBlock[];
    }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; chunks: SdesChunk[] }
  | { type: 'bye'; ssrcs: number[]; reason?: string }
  /** Any other packet type (APP, feedback, XR...), passed over. */
  | { type: 'other'; packetType: number };

export interface SenderReportOptions {
  ssrc: number;
  /** Wall-clock time of the report, Unix ms (becomes the NTP timestamp). */
  ntpMs: number;
  /** RTP timestamp corresponding to the same instant (§6.4.1). */
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  report?: ReportBlock;
  /** CNAME for the SDES chunk; defaults to one derived from the SSRC. */
  cname?: string;
}

export interface ReceiverReportOptions {
  ssrc: number;
  report?: ReportBlock;
  cname?: string;
}

/** Common header (§6.4.1): V=2, P=0, count, packet type, length in 32-bit words minus one. */
function writeHeader(b: Buffer, count: number, packetType: number): void {
  b[0] = 0x80 | (count & 0x1f);
  b[1] = packetType;
  b.writeUInt16BE(b.length / 4 - 1, 2);
}

function writeReportBlock(b: Buffer, off: number, r: ReportBlock): void {
  b.writeUInt32BE(r.ssrc >>> 0, off);
  b[off + 4] = r.fractionLost & 0xff;
  b.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)), off + 5, 3);
  b.writeUInt32BE(r.extendedHighestSeq >>> 0, off + 8);
  b.writeUInt32BE(r.jitter >>> 0, off + 12);
  b.writeUInt32BE(r.lsr >>> 0, off + 16);
  b.writeUInt32BE(r.dlsr >>> 0, off + 20);
}

function readReportBlock(b: Buffer, off: number): ReportBlock {
  return {
    ssrc: b.readUInt32BE(off),
    fractionLost: b[off + 4]!,
    cumulativeLost: b.readIntBE(off + 5, 3),
    extendedHighestSeq: b.readUInt32BE(off + 8),
    jitter: b.readUInt32BE(off + 12),
    lsr: b.readUInt32BE(off + 16),
    dlsr: b.readUInt32BE(off + 20),
  };
}

/** SDES with one chunk holding a CNAME item (§6.5, §6.5.1). */
export function buildSdesCname(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  // SSRC + type + length + text, then at least one null octet ending the item list,
  // padded to a 32-bit boundary.
  const chunkLen = Math.ceil((4 + 2 + text.length + 1) / 4) * 4;
  const b = Buffer.alloc(4 + chunkLen);
  writeHeader(b, 1, RTCP_SDES);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b[8] = SDES_CNAME;
  b[9] = text.length;
  text.copy(b, 10);
  return b;
}

const defaultCname = (ssrc: number): string => `vagw-${(ssrc >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Compound SR + SDES(CNAME). §6.1: every compound packet starts with an SR or RR and carries
 * an SDES CNAME.
 */
export function buildSenderReport(o: SenderReportOptions): Buffer {
  const blocks = o.report ? 1 : 0;
  const sr = Buffer.alloc(28 + 24 * blocks);
  writeHeader(sr, blocks, RTCP_SR);
  sr.writeUInt32BE(o.ssrc >>> 0, 4);
  const ntp = ntpFromMs(o.ntpMs);
  sr.writeUInt32BE(ntp.seconds, 8);
  sr.writeUInt32BE(ntp.fraction, 12);
  sr.writeUInt32BE(o.rtpTimestamp >>> 0, 16);
  sr.writeUInt32BE(o.packetCount >>> 0, 20);
  sr.writeUInt32BE(o.octetCount >>> 0, 24);
  if (o.report) writeReportBlock(sr, 28, o.report);
  return Buffer.concat([sr, buildSdesCname(o.ssrc, o.cname ?? defaultCname(o.ssrc))]);
}

/** Compound RR + SDES(CNAME); an RR with no block is valid when nothing was received (§6.4.2). */
export function buildReceiverReport(o: ReceiverReportOptions): Buffer {
  const blocks = o.report ? 1 : 0;
  const rr = Buffer.alloc(8 + 24 * blocks);
  writeHeader(rr, blocks, RTCP_RR);
  rr.writeUInt32BE(o.ssrc >>> 0, 4);
  if (o.report) writeReportBlock(rr, 8, o.report);
  return Buffer.concat([rr, buildSdesCname(o.ssrc, o.cname ?? defaultCname(o.ssrc))]);
}

/** BYE for one SSRC (§6.6), optionally with a reason. */
export function buildBye(ssrc: number, reason?: string): Buffer {
  const text = reason === undefined ? null : Buffer.from(reason, 'utf8').subarray(0, 255);
  const len = 8 + (text ? Math.ceil((1 + text.length) / 4) * 4 : 0);
  const b = Buffer.alloc(len);
  writeHeader(b, 1, RTCP_BYE);
  b.writeUInt32BE(ssrc >>> 0, 4);
  if (text) {
    b[8] = text.length;
    text.copy(b, 9);
  }
  return b;
}

/**
 * Parse a compound RTCP packet. Null when anything is malformed (the §A.2 validity checks):
 * version not 2, a length running past the buffer or not adding up to it, padding anywhere but
 * in the last packet, or a count that does not fit the packet's length.
 */
export function parseRtcp(buf: Buffer): RtcpPacket[] | null {
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 4) return null;
    const b0 = buf[off]!;
    if (b0 >> 6 !== 2) return null;
    const len = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > buf.length) return null;
    let end = off + len;
    if (b0 & 0x20) {
      if (end !== buf.length) return null; // only the last packet may be padded (§6.4.1)
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > len - 4) return null;
      end -= pad;
    }
    const p = parseOne(buf.subarray(off, end), b0 & 0x1f, buf[off + 1]!);
    if (!p) return null;
    out.push(p);
    off += len;
  }
  return out.length > 0 ? out : null;
}

/** One packet, header included; `count` is the 5-bit RC/SC field. */
function parseOne(b: Buffer, count: number, packetType: number): RtcpPacket | null {
  switch (packetType) {
    case RTCP_SR: {
      if (b.length < 28 + 24 * count) return null;
      return {
        type: 'sr',
        ssrc: b.readUInt32BE(4),
        ntp: { seconds: b.readUInt32BE(8), fraction: b.readUInt32BE(12) },
        rtpTimestamp: b.readUInt32BE(16),
        packetCount: b.readUInt32BE(20),
        octetCount: b.readUInt32BE(24),
        reports: Array.from({ length: count }, (_, i) => readReportBlock(b, 28 + 24 * i)),
      };
    }
    case RTCP_RR: {
      if (b.length < 8 + 24 * count) return null;
      return {
        type: 'rr',
        ssrc: b.readUInt32BE(4),
        reports: Array.from({ length: count }, (_, i) => readReportBlock(b, 8 + 24 * i)),
      };
    }
    case RTCP_SDES:
      return parseSdes(b, count);
    case RTCP_BYE: {
      if (b.length < 4 + 4 * count) return null;
      const ssrcs = Array.from({ length: count }, (_, i) => b.readUInt32BE(4 + 4 * i));
      const at = 4 + 4 * count;
      if (b.length > at) {
        const n = b[at]!;
        if (at + 1 + n > b.length) return null;
        return { type: 'bye', ssrcs, reason: b.toString('utf8', at + 1, at + 1 + n) };
      }
      return { type: 'bye', ssrcs };
    }
    default:
      return { type: 'other', packetType };
  }
}

/** §6.5: chunks of SSRC + items, each chunk's item list ended by null octet(s) to a word boundary. */
function parseSdes(b: Buffer, count: number): RtcpPacket | null {
  const chunks: SdesChunk[] = [];
  let off = 4;
  for (let c = 0; c < count; c++) {
    if (off + 4 > b.length) return null;
    const chunk: SdesChunk = { ssrc: b.readUInt32BE(off), items: [] };
    off += 4;
    for (;;) {
      if (off >= b.length) return null;
      const type = b[off]!;
      if (type === 0) break;
      if (off + 2 > b.length) return null;
      const n = b[off + 1]!;
      if (off + 2 + n > b.length) return null;
      chunk.items.push({ type, text: b.toString('utf8', off + 2, off + 2 + n) });
      off += 2 + n;
    }
    off = (Math.floor(off / 4) + 1) * 4; // skip the terminating null and the padding
    if (off > b.length) return null;
    chunks.push(chunk);
  }
  return { type: 'sdes', chunks };
}
