import { describe, expect, it } from 'vitest';
import { OutboundQueue } from './outbound.js';

const bytes = (n: number, v: number) => Buffer.alloc(n, v);

describe('OutboundQueue', () => {
  it('re-chunks audio into frames and keeps marks after the audio queued before them', () => {
    const q = new OutboundQueue(160, 100);
    q.pushAudio(bytes(100, 1));
    q.pushAudio(bytes(300, 2));
    q.pushMark('m1');
    expect(q.queuedFrames).toBe(3); // 400 bytes = 2 frames + 80 padded into a third
    expect(q.takeMarks()).toEqual([]);
    expect(q.takeFrame()![0]).toBe(1);
    expect(q.takeFrame()![159]).toBe(2);
    const last = q.takeFrame()!;
    expect([last[0], last[79], last[80]]).toEqual([2, 2, 0xff]);
    expect(q.takeMarks()).toEqual(['m1']);
    expect(q.takeFrame()).toBeUndefined();
  });

  it('drops audio beyond the bound and says how much', () => {
    const q = new OutboundQueue(160, 2);
    expect(q.pushAudio(bytes(160 * 5, 0))).toBe(3);
    expect(q.queuedFrames).toBe(2);
    expect(q.dropped).toBe(3);
  });

  it('clear drops audio at once and returns pending marks', () => {
    const q = new OutboundQueue(160, 100);
    q.pushAudio(bytes(320, 0));
    q.pushMark('a');
    q.pushAudio(bytes(160, 0));
    q.pushMark('b');
    expect(q.clear()).toEqual(['a', 'b']);
    expect(q.empty).toBe(true);
    expect(q.takeFrame()).toBeUndefined();
  });
});

describe('OutboundQueue ring', () => {
  it('keeps order across growth and wrap-around, and marks between frames', () => {
    const q = new OutboundQueue(4, 1000);
    let next = 0;
    let expect0 = 0;
    for (let round = 0; round < 50; round++) {
      const n = (round * 7) % 13;
      for (let i = 0; i < n; i++) q.pushAudio(Buffer.alloc(4, next++ & 0xff));
      if (round % 5 === 0) q.pushMark(`m${round}`);
      const take = (round * 5) % 11;
      for (let i = 0; i < take; i++) {
        q.takeMarks();
        const f = q.takeFrame();
        if (!f) break;
        expect(f[0]).toBe(expect0++ & 0xff);
      }
    }
    while (!q.empty) {
      q.takeMarks();
      const f = q.takeFrame();
      if (f) expect(f[0]).toBe(expect0++ & 0xff);
    }
    expect(expect0).toBe(next);
  });

  it('splits audio across pushes of odd sizes, and a mark pads the partial frame', () => {
    const q = new OutboundQueue(4, 100);
    q.pushAudio(Buffer.from([1, 2, 3]));
    q.pushAudio(Buffer.from([4, 5, 6, 7, 8, 9]));
    q.pushMark('x');
    expect([...q.takeFrame()!]).toEqual([1, 2, 3, 4]);
    expect([...q.takeFrame()!]).toEqual([5, 6, 7, 8]);
    expect(q.takeMarks()).toEqual([]);
    expect([...q.takeFrame()!]).toEqual([9, 0xff, 0xff, 0xff]);
    expect(q.takeFrame()).toBeUndefined();
    expect(q.takeMarks()).toEqual(['x']);
    expect(q.empty).toBe(true);
  });
});
