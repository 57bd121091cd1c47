import { describe, expect, it } from 'vitest';
import { base64Into, MediaFrameWriter } from './wire.js';

describe('MediaFrameWriter', () => {
  it('writes exactly what JSON.stringify gives for a media message', () => {
    for (const sid of ['MZ0123456789abcdef0123456789abcdef', 'odd "sid" \\ é\u2028']) {
      const w = new MediaFrameWriter(sid);
      for (const [seq, chunk, ts] of [[1, 1, 0], [9, 10, 99], [10, 100, 1000], [123456789, 99999, 4294967296], [1e15, 7, 20]] as const) {
        for (const n of [0, 1, 2, 3, 4, 5, 160, 161]) {
          const audio = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + seq) & 0xff));
          const expected = JSON.stringify({ event: 'media', sequenceNumber: String(seq), streamSid: sid, media: { track: 'inbound', chunk: String(chunk), timestamp: String(ts), payload: audio.toString('base64') } });
          expect(w.write(seq, chunk, ts, audio).toString('utf8')).toBe(expected);
        }
      }
    }
  });

  it('base64Into matches Buffer base64 at an offset', () => {
    for (let n = 0; n < 20; n++) {
      const src = Buffer.from(Array.from({ length: n }, (_, i) => (i * 91 + 7) & 0xff));
      const dst = Buffer.alloc(40, 0x2e);
      const end = base64Into(src, dst, 3);
      expect(dst.subarray(3, end).toString('latin1')).toBe(src.toString('base64'));
    }
  });
});
