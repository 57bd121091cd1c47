import { describe, expect, it } from 'vitest';
import { buildRtp, RtpSequencer } from './rtp-packet.js';
import { parseRtp } from './rtp.js';

describe('buildRtp', () => {
  it('round-trips through parseRtp', () => {
    const payload = Uint8Array.of(1, 2, 3, 4, 5);
    const h = { payloadType: 8, marker: true, sequence: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef };
    const p = buildRtp(h, payload);
    expect(p.length).toBe(17);
    expect(p[0]).toBe(0x80);
    const parsed = parseRtp(p);
    expect(parsed).toEqual({ ...h, payloadOffset: 12 });
    expect([...p.subarray(parsed!.payloadOffset)]).toEqual([...payload]);
  });

  it('encodes marker off and the 7-bit payload type', () => {
    const p = buildRtp({ payloadType: 101, marker: false, sequence: 1, timestamp: 2, ssrc: 3 }, new Uint8Array(0));
    expect(p[1]).toBe(101);
    expect(parseRtp(p)!.marker).toBe(false);
  });
});

describe('RtpSequencer', () => {
  it('increments sequence and timestamp, wrapping at 16 and 32 bits', () => {
    const s = new RtpSequencer(42, 65534, 0xffffff00);
    const a = parseRtp(s.next(new Uint8Array(160), 160, 0, true))!;
    const b = parseRtp(s.next(new Uint8Array(160), 160, 0))!;
    const c = parseRtp(s.next(new Uint8Array(160), 160, 0))!;
    expect([a.sequence, b.sequence, c.sequence]).toEqual([65534, 65535, 0]);
    expect([a.timestamp, b.timestamp, c.timestamp]).toEqual([0xffffff00, 0xffffffa0 >>> 0, 0x40]);
    expect([a.marker, b.marker]).toEqual([true, false]);
    expect(a.ssrc).toBe(42);
    expect(s.sequence).toBe(1);
  });

  it('picks random values in range when omitted', () => {
    const s = new RtpSequencer();
    expect(s.ssrc).toBeGreaterThanOrEqual(0);
    expect(s.ssrc).toBeLessThan(2 ** 32);
    expect(s.sequence).toBeLessThan(2 ** 16);
    const h = parseRtp(s.next(Uint8Array.of(0xff), 1, 0))!;
    expect(h.ssrc).toBe(s.ssrc);
  });
});
