/** RTP fixed header (RFC 3550 §5.1): just what the echo skeleton needs to validate and re-stamp. */
export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload in the packet. */
  payloadOffset: number;
}

/** Parse and validate; null for anything that is not a well-formed RTP v2 packet. */
export function parseRtp(p: Buffer): RtpHeader | null {
  if (p.length < 12) return null;
  const b0 = p[0]!;
  if (b0 >> 6 !== 2) return null;
  const cc = b0 & 0x0f;
  let off = 12 + 4 * cc;
  if (p.length < off) return null;
  if (b0 & 0x10) {
    // §5.3.1 header extension: 16-bit profile, 16-bit length in 32-bit words.
    if (p.length < off + 4) return null;
    off += 4 + 4 * p.readUInt16BE(off + 2);
    if (p.length < off) return null;
  }
  let end = p.length;
  if (b0 & 0x20) {
    // §5.1 padding: the last octet counts the padding octets.
    const pad = p[p.length - 1]!;
    if (pad === 0 || off + pad > p.length) return null;
    end -= pad;
  }
  if (end < off) return null;
  const b1 = p[1]!;
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequence: p.readUInt16BE(2),
    timestamp: p.readUInt32BE(4),
    ssrc: p.readUInt32BE(8),
    payloadOffset: off,
  };
}

/** RTCP packet types 200-204 share the RTP version bits; RFC 5761 §4 tells them apart by PT. */
export function isRtcp(p: Buffer): boolean {
  return p.length >= 2 && p[1]! >= 200 && p[1]! <= 204;
}
