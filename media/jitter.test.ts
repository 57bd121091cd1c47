import { describe, expect, it } from 'vitest';
import { JitterBuffer, type JitterOut } from './jitter.js';

const OPTS = { minMs: 20, maxMs: 60, frameMs: 20, clockRate: 8000 };
const SSRC = 0x1234;

/** Packet `seq` of a 20 ms / 160-sample stream; timestamps follow the (16-bit) sequence. */
function pkt(seq: number, ssrc = SSRC) {
  const s = seq & 0xffff;
  return { sequence: s, timestamp: (seq * 160) >>> 0, payload: Uint8Array.of(s & 0xff), ssrc };
}

/** Compact form of the output: sequence numbers, lost ones as 'L<seq>'. */
const seqs = (out: JitterOut[]) => out.map((o) => (o.kind === 'frame' ? o.sequence : `L${o.sequence}`));

describe('JitterBuffer', () => {
  it('releases an in-order stream immediately, adding no latency', () => {
    const jb = new JitterBuffer(OPTS);
    for (let i = 0; i < 50; i++) {
      const out = jb.push(pkt(i), i * 20);
      expect(seqs(out)).toEqual([i]);
      expect(out[0]).toMatchObject({ kind: 'frame', timestamp: i * 160, payload: Uint8Array.of(i) });
      expect(jb.nextDeadline()).toBeNull();
    }
    expect(jb.stats).toMatchObject({ received: 50, released: 50, lost: 0, late: 0, reordered: 0 });
    expect(jb.targetMs).toBe(20);
  });

  it('reorders a swapped pair', () => {
    const jb = new JitterBuffer(OPTS);
    expect(seqs(jb.push(pkt(0), 0))).toEqual([0]);
    expect(seqs(jb.push(pkt(1), 20))).toEqual([1]);
    expect(seqs(jb.push(pkt(3), 40))).toEqual([]);
    expect(jb.nextDeadline()).toBe(40 + jb.targetMs);
    expect(seqs(jb.push(pkt(2), 45))).toEqual([2, 3]);
    expect(jb.nextDeadline()).toBeNull();
    expect(seqs(jb.push(pkt(4), 60))).toEqual([4]);
    expect(jb.stats).toMatchObject({ reordered: 1, lost: 0, released: 5 });
  });

  it('declares a missing packet lost after targetMs, then its successors flow', () => {
    const jb = new JitterBuffer(OPTS);
    jb.push(pkt(0), 0);
    jb.push(pkt(1), 20);
    expect(seqs(jb.push(pkt(3), 60))).toEqual([]);
    expect(seqs(jb.push(pkt(4), 70))).toEqual([]);
    const due = jb.nextDeadline()!;
    expect(due).toBe(60 + jb.targetMs);
    expect(jb.poll(due - 1)).toEqual([]);
    const out = jb.poll(due);
    expect(seqs(out)).toEqual(['L2', 3, 4]);
    expect(out[0]).toEqual({ kind: 'lost', sequence: 2, timestamp: 320 });
    expect(seqs(jb.push(pkt(5), 100))).toEqual([5]);
    expect(jb.stats.lost).toBe(1);
  });

  it('expires on push as well as on poll', () => {
    const jb = new JitterBuffer(OPTS);
    jb.push(pkt(0), 0);
    jb.push(pkt(2), 40);
    expect(seqs(jb.push(pkt(3), 100))).toEqual(['L1', 2, 3]);
  });

  it('drops a packet that arrives after its slot was declared lost', () => {
    const jb = new JitterBuffer(OPTS);
    jb.push(pkt(0), 0);
    jb.push(pkt(2), 40);
    expect(seqs(jb.poll(60))).toEqual(['L1', 2]);
    expect(jb.push(pkt(1), 65)).toEqual([]);
    expect(jb.stats).toMatchObject({ late: 1, duplicate: 0, released: 2, lost: 1 });
    expect(seqs(jb.push(pkt(3), 70))).toEqual([3]);
  });

  it('reports a burst loss with interpolated timestamps', () => {
    const jb = new JitterBuffer(OPTS);
    jb.push(pkt(10), 0);
    jb.push(pkt(14), 80);
    const out = jb.poll(100);
    expect(out).toEqual([
      { kind: 'lost', sequence: 11, timestamp: 11 * 160 },
      { kind: 'lost', sequence: 12, timestamp: 12 * 160 },
      { kind: 'lost', sequence: 13, timestamp: 13 * 160 },
      { kind: 'frame', sequence: 14, timestamp: 14 * 160, payload: Uint8Array.of(14) },
    ]);
  });

  it('handles several holes one at a time, never holding a packet past the target', () => {
    const jb = new JitterBuffer(OPTS);
    jb.push(pkt(0), 0);
    jb.push(pkt(2), 40);
    jb.push(pkt(4), 50);
    expect(jb.nextDeadline()).toBe(60);
    expect(seqs(jb.poll(60))).toEqual(['L1', 2]);
    // 4 has waited since 50: its hole gets its own full wait, not a fresh one.
    expect(jb.nextDeadline()).toBe(70);
    expect(seqs(jb.poll(70))).toEqual(['L3', 4]);
  });

  it('counts and drops duplicates, released or held', () => {
    const jb = new JitterBuffer(OPTS);
    jb.push(pkt(0), 0);
    expect(jb.push(pkt(0), 1)).toEqual([]);
    jb.push(pkt(2), 40);
    expect(jb.push(pkt(2), 41)).toEqual([]);
    expect(jb.stats.duplicate).toBe(2);
    expect(seqs(jb.push(pkt(1), 42))).toEqual([1, 2]);
  });

  it('handles sequence wrap-around at 65535', () => {
    const jb = new JitterBuffer(OPTS);
    const got: (number | string)[] = [];
    let t = 0;
    for (const s of [65533, 65534, 0, 65535, 1, 3]) got.push(...seqs(jb.push(pkt(s), (t += 20))));
    got.push(...seqs(jb.poll(t + 60)));
    expect(got).toEqual([65533, 65534, 65535, 0, 1, 'L2', 3]);
    expect(jb.stats).toMatchObject({ reordered: 1, lost: 1, resyncs: 0 });
  });

  it('starts at any sequence number and drops far-behind strays', () => {
    const jb = new JitterBuffer(OPTS);
    jb.push(pkt(1000), 0);
    jb.push(pkt(1001), 20);
    expect(jb.push(pkt(700), 30)).toEqual([]);
    expect(seqs(jb.push(pkt(1002), 40))).toEqual([1002]);
    expect(jb.stats).toMatchObject({ late: 1, resyncs: 0 });
  });

  it('resyncs on a large forward jump and on an SSRC change', () => {
    const jb = new JitterBuffer(OPTS);
    jb.push(pkt(0), 0);
    jb.push(pkt(2), 40); // held behind a hole
    expect(seqs(jb.push(pkt(5000), 50))).toEqual([2, 5000]);
    expect(seqs(jb.push(pkt(5001), 80))).toEqual([5001]);
    expect(seqs(jb.push(pkt(7, 0x9999), 100))).toEqual([7]);
    expect(seqs(jb.push(pkt(8, 0x9999), 120))).toEqual([8]);
    expect(jb.stats).toMatchObject({ resyncs: 2, lost: 0 });
  });

  it('resyncs when a sender restarts its numbering far behind (two packets in sequence)', () => {
    const jb = new JitterBuffer(OPTS);
    for (let i = 0; i < 5; i++) jb.push(pkt(1000 + i), i * 20);
    expect(jb.push(pkt(10), 100)).toEqual([]);
    expect(seqs(jb.push(pkt(11), 120))).toEqual([11]);
    expect(seqs(jb.push(pkt(12), 140))).toEqual([12]);
    expect(jb.stats).toMatchObject({ late: 1, resyncs: 1 });
  });

  it('grows the target under jitter and shrinks it back on a clean network', () => {
    const jb = new JitterBuffer(OPTS);
    let seq = 0;
    // Every other packet 15 ms late: order kept, |D| = 15 ms each packet.
    for (let i = 0; i < 100; i++, seq++) jb.push(pkt(seq), seq * 20 + (i % 2) * 15);
    expect(jb.stats.jitterMs).toBeGreaterThan(12);
    expect(jb.targetMs).toBeGreaterThan(45);
    expect(jb.targetMs).toBeLessThanOrEqual(60);
    for (let i = 0; i < 100; i++, seq++) jb.push(pkt(seq), seq * 20);
    expect(jb.stats.jitterMs).toBeLessThan(1);
    expect(jb.targetMs).toBe(20);
    expect(jb.stats.lost).toBe(0);
  });

  it('never exceeds maxMs however large the jitter', () => {
    const jb = new JitterBuffer(OPTS);
    for (let i = 0; i < 50; i++) jb.push(pkt(i), i * 20 + (i % 2) * 200);
    expect(jb.targetMs).toBe(60);
  });
});
