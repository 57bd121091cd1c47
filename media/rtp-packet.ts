/** RTP packet construction (RFC 3550 §5.1): the counterpart of parseRtp in ./rtp.ts. */
import { randomInt } from 'node:crypto';

export interface RtpBuildHeader {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

/** Size of the fixed header; we never send CSRCs or a header extension. */
export const RTP_HEADER_BYTES = 12;

/** Build one RTP packet: V=2, P=0, X=0, CC=0 (RFC 3550 §5.1). */
export function buildRtp(h: RtpBuildHeader, payload: Uint8Array): Buffer {
  const p = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
  p[0] = 0x80; // version 2, no padding, no extension, no CSRC
  p[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  p.writeUInt16BE(h.sequence & 0xffff, 2);
  p.writeUInt32BE(h.timestamp >>> 0, 4);
  p.writeUInt32BE(h.ssrc >>> 0, 8);
  p.set(payload, RTP_HEADER_BYTES);
  return p;
}

/**
 * Stamps an outgoing stream: one SSRC, sequence +1 per packet (mod 2^16) and timestamp + samples
 * per packet (mod 2^32). RFC 3550 §5.1 recommends random initial sequence and timestamp values.
 */
export class RtpSequencer {
  readonly ssrc: number;
  private seq: number;
  private ts: number;

  constructor(ssrc?: number, initialSeq?: number, initialTs?: number) {
    this.ssrc = (ssrc ?? randomInt(0, 2 ** 32)) >>> 0;
    this.seq = (initialSeq ?? randomInt(0, 2 ** 16)) & 0xffff;
    this.ts = (initialTs ?? randomInt(0, 2 ** 32)) >>> 0;
  }

  /** Sequence number the next packet will carry. */
  get sequence(): number {
    return this.seq;
  }

  /** Timestamp the next packet will carry. */
  get timestamp(): number {
    return this.ts;
  }

  /** Stamp `payload`, then advance: `samples` is the payload's duration in clock-rate units. */
  next(payload: Uint8Array, samples: number, pt: number, marker = false): Buffer {
    const p = buildRtp({ payloadType: pt, marker, sequence: this.seq, timestamp: this.ts, ssrc: this.ssrc }, payload);
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + samples) >>> 0;
    return p;
  }
}
