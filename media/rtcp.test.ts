import { describe, expect, it } from 'vitest';
import {
  buildBye,
  buildReceiverReport,
  buildSenderReport,
  ntpFromMs,
  ntpMiddle32,
  ntpMiddle32FromMs,
  ntpToMs,
  parseRtcp,
  ReceptionStats,
  roundTripMs,
  type ReportBlock,
} from './rtcp.js';

const BLOCK: ReportBlock = {
  ssrc: 0xcafebabe,
  fractionLost: 25,
  cumulativeLost: -3,
  extendedHighestSeq: 0x1_0005,
  jitter: 37,
  lsr: 0x12345678,
  dlsr: 65536 * 2,
};

describe('NTP helpers', () => {
  it('converts Unix ms to NTP and back', () => {
    const ms = Date.UTC(2024, 0, 1, 12, 0, 0, 250);
    const t = ntpFromMs(ms);
    expect(t.seconds).toBe(ms / 1000 - 0.25 + 2_208_988_800);
    expect(t.fraction).toBe(2 ** 30); // 0.25 s
    expect(ntpToMs(t)).toBe(ms);
    expect(ntpFromMs(0)).toEqual({ seconds: 2_208_988_800, fraction: 0 });
  });

  it('takes the middle 32 bits for LSR', () => {
    expect(ntpMiddle32({ seconds: 0xaabbccdd, fraction: 0x11223344 })).toBe(0xccdd1122);
    expect(ntpMiddle32FromMs(1000.5)).toBe(ntpMiddle32(ntpFromMs(1000.5)));
  });

  it('computes the round-trip time from LSR and DLSR', () => {
    const srSent = 1_700_000_000_000;
    const lsr = ntpMiddle32FromMs(srSent);
    // The peer held the SR for 250 ms, the network took 2 x 40 ms.
    const dlsr = (250 * 65536) / 1000;
    expect(roundTripMs(srSent + 330, lsr, dlsr)).toBeCloseTo(80, 1);
    expect(roundTripMs(srSent, 0, 0)).toBeNull();
  });
});

describe('build / parse', () => {
  it('round-trips a compound SR + SDES CNAME', () => {
    const ms = 1_700_000_000_123;
    const buf = buildSenderReport({
      ssrc: 0x01020304,
      ntpMs: ms,
      rtpTimestamp: 0xfffffff0,
      packetCount: 500,
      octetCount: 80000,
      report: BLOCK,
      cname: 'gw@example',
    });
    expect(buf.length % 4).toBe(0);
    const pkts = parseRtcp(buf)!;
    expect(pkts).toHaveLength(2);
    const [sr, sdes] = pkts;
    expect(sr).toMatchObject({ type: 'sr', ssrc: 0x01020304, rtpTimestamp: 0xfffffff0, packetCount: 500, octetCount: 80000 });
    expect(sr!.type === 'sr' && sr.reports).toEqual([BLOCK]);
    expect(sr!.type === 'sr' && Math.abs(ntpToMs(sr.ntp) - ms)).toBeLessThan(0.001);
    expect(sdes).toEqual({ type: 'sdes', chunks: [{ ssrc: 0x01020304, items: [{ type: 1, text: 'gw@example' }] }] });
  });

  it('round-trips an RR with and without a block, with a default CNAME', () => {
    const withBlock = parseRtcp(buildReceiverReport({ ssrc: 7, report: BLOCK }))!;
    expect(withBlock[0]).toEqual({ type: 'rr', ssrc: 7, reports: [BLOCK] });
    expect(withBlock[1]).toMatchObject({ type: 'sdes', chunks: [{ ssrc: 7, items: [{ type: 1 }] }] });
    const empty = parseRtcp(buildReceiverReport({ ssrc: 7, cname: 'abc' }))!;
    expect(empty[0]).toEqual({ type: 'rr', ssrc: 7, reports: [] });
  });

  it('pads CNAMEs of every length to a word boundary with at least one null', () => {
    for (let n = 1; n <= 9; n++) {
      const buf = buildReceiverReport({ ssrc: 1, cname: 'x'.repeat(n) });
      expect(buf.length % 4).toBe(0);
      expect(buf[buf.length - 1]).toBe(0);
      const sdes = parseRtcp(buf)![1]!;
      expect(sdes.type === 'sdes' && sdes.chunks[0]!.items[0]!.text).toBe('x'.repeat(n));
    }
  });

  it('parses BYE with and without a reason, and passes over unknown types', () => {
    const rr = buildReceiverReport({ ssrc: 9 });
    const app = Buffer.from([0x80, 204, 0, 2, 0, 0, 0, 9, 0x41, 0x42, 0x43, 0x44]);
    const pkts = parseRtcp(Buffer.concat([rr, app, buildBye(9, 'hangup')]))!;
    expect(pkts.map((p) => p.type)).toEqual(['rr', 'sdes', 'other', 'bye']);
    expect(pkts[3]).toEqual({ type: 'bye', ssrcs: [9], reason: 'hangup' });
    expect(parseRtcp(buildBye(5))).toEqual([{ type: 'bye', ssrcs: [5] }]);
  });

  it('returns null for malformed input', () => {
    const good = buildSenderReport({ ssrc: 1, ntpMs: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0, report: BLOCK });
    expect(parseRtcp(Buffer.alloc(0))).toBeNull();
    expect(parseRtcp(good.subarray(0, 3))).toBeNull();
    const badVersion = Buffer.from(good);
    badVersion[0] = (badVersion[0]! & 0x3f) | 0x40;
    expect(parseRtcp(badVersion)).toBeNull();
    const overrun = Buffer.from(good);
    overrun.writeUInt16BE(200, 2);
    expect(parseRtcp(overrun)).toBeNull();
    expect(parseRtcp(good.subarray(0, good.length - 4))).toBeNull(); // truncated SDES
    const tooManyBlocks = Buffer.from(good);
    tooManyBlocks[0] = 0x80 | 3;
    expect(parseRtcp(tooManyBlocks)).toBeNull();
    const paddedFirst = Buffer.from(good);
    paddedFirst[0]! |= 0x20;
    expect(parseRtcp(paddedFirst)).toBeNull();
  });

  it('accepts padding on the last packet', () => {
    const rr = buildReceiverReport({ ssrc: 3 });
    const bye = Buffer.concat([buildBye(3), Buffer.from([0, 0, 0, 4])]);
    bye[0]! |= 0x20;
    bye.writeUInt16BE(bye.length / 4 - 1, 2);
    expect(parseRtcp(Buffer.concat([rr, bye]))!.at(-1)).toEqual({ type: 'bye', ssrcs: [3] });
  });
});

describe('ReceptionStats', () => {
  it('counts loss across a sequence wrap and gives fraction lost per interval', () => {
    const st = new ReceptionStats();
    // 200 packets from seq 65500 (wrapping), every 10th lost: 20 lost of 200 expected.
    for (let i = 0; i < 200; i++) {
      if (i % 10 === 5) continue;
      st.onPacket((65500 + i) & 0xffff, i * 160, i * 20, 8000);
    }
    const r = st.report(4000);
    expect(r.extendedHighestSeq).toBe(65500 + 199);
    expect(r.cumulativeLost).toBe(20);
    expect(r.fractionLost).toBe(Math.floor((20 * 256) / 200)); // 25 = 10%
    expect(r.jitter).toBe(0);
    expect(r).toMatchObject({ lsr: 0, dlsr: 0 });

    // Next interval: 100 more, none lost.
    for (let i = 200; i < 300; i++) st.onPacket((65500 + i) & 0xffff, i * 160, i * 20, 8000);
    const r2 = st.report(6000);
    expect(r2.fractionLost).toBe(0);
    expect(r2.cumulativeLost).toBe(20);
  });

  it('counts duplicates as received (cumulative loss can go negative) and ignores reordering', () => {
    const st = new ReceptionStats();
    for (const s of [10, 12, 11, 13, 13, 13]) st.onPacket(s, s * 160, s * 20, 8000);
    const r = st.report(0);
    expect(r.extendedHighestSeq).toBe(13);
    expect(r.cumulativeLost).toBe(-2);
    expect(r.fractionLost).toBe(0);
  });

  it('estimates jitter per RFC 3550 A.8', () => {
    const st = new ReceptionStats();
    // Alternate 0 / 10 ms extra delay: |D| = 80 timestamp units on every packet after the first.
    for (let i = 0; i < 400; i++) st.onPacket(i, i * 160, i * 20 + (i % 2) * 10, 8000);
    expect(st.report(0).jitter).toBe(79); // converges to 80 from below
    // One late packet: J = J + (|D| - J) / 16 exactly.
    const a = new ReceptionStats();
    a.onPacket(0, 0, 0, 8000);
    a.onPacket(1, 160, 40, 8000); // 20 ms late = 160 units
    expect(a.report(0).jitter).toBe(10); // 160 / 16
  });

  it('restarts after two packets confirm a large sequence jump (A.1)', () => {
    const st = new ReceptionStats();
    for (let i = 0; i < 10; i++) st.onPacket(i, i * 160, i * 20, 8000);
    st.onPacket(30000, 0, 220, 8000); // stray: ignored
    expect(st.report(0)).toMatchObject({ extendedHighestSeq: 9, cumulativeLost: 0 });
    st.onPacket(30001, 160, 240, 8000); // confirmed: new base
    st.onPacket(30002, 320, 260, 8000);
    expect(st.report(0)).toMatchObject({ extendedHighestSeq: 30002, cumulativeLost: 0 });
  });

  it('reports LSR and DLSR from the last SR', () => {
    const st = new ReceptionStats();
    st.onPacket(1, 0, 0, 8000);
    const ntp = ntpFromMs(1_700_000_000_000);
    st.onSenderReport(ntp, 5000);
    const r = st.report(5500);
    expect(r.lsr).toBe(ntpMiddle32(ntp));
    expect(r.dlsr).toBe(32768); // 0.5 s in 1/65536 s
  });
});
