import { describe, expect, it } from 'vitest';
import { OutboundQueue } from './outbound.js';
import { RealtimeTrim } from './realtime-trim.js';

const frame = (v: number) => Buffer.alloc(160, v);

describe('RealtimeTrim', () => {
  it('drops one frame per window while the queue never fell below two frames', () => {
    const t = new RealtimeTrim(1, 10);
    const drops = Array.from({ length: 30 }, () => t.observe(3));
    expect(drops.filter((d) => d === 1)).toHaveLength(3);
    expect(drops.slice(0, 9).every((d) => d === 0)).toBe(true);
  });

  it('keeps the frames a jittery far end needs: one dip to the slack in a window cancels the trim', () => {
    const t = new RealtimeTrim(1, 10);
    const depths = [2, 2, 2, 1, 2, 2, 2, 2, 2, 2];
    expect(depths.map((d) => t.observe(d)).reduce((a, b) => a + b)).toBe(0);
  });

  it('a far end one frame late for good: the delay goes back to one frame of slack', () => {
    // Simulate: the far end delivers one frame per tick; one frame arrives late once, so from then
    // on two frames are queued at each tick.
    const q = new OutboundQueue(160, 500);
    const t = new RealtimeTrim(1, 50);
    let trimmed = 0;
    const depths: number[] = [];
    for (let tick = 0; tick < 300; tick++) {
      q.pushAudio(frame(tick & 0x7f));
      if (tick === 10) q.pushAudio(frame(1)); // the late frame and its successor arrive together
      if (tick === 11) q.pushAudio(frame(2));
      q.takeFrame();
      trimmed += q.skip(t.observe(q.queuedFrames));
      depths.push(q.queuedFrames);
    }
    expect(trimmed).toBeGreaterThan(0);
    expect(depths.at(-1)).toBeLessThanOrEqual(1);
  });

  it('OutboundQueue.skip never crosses a pending mark', () => {
    const q = new OutboundQueue(160, 100);
    q.pushAudio(frame(1));
    q.pushMark('m1');
    q.pushAudio(frame(2));
    expect(q.skip(5)).toBe(1);
    expect(q.takeMarks()).toEqual(['m1']);
    expect(q.skip(5)).toBe(1);
    expect(q.queuedFrames).toBe(0);
  });
});
