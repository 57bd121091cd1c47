import { describe, expect, it } from 'vitest';
import { FramingError, StreamFramer, type Frame } from './framer.js';

const request = (tag: string, body = '', cl = `Content-Length: ${Buffer.byteLength(body)}`): string =>
  [
    'MESSAGE sip:agent@example.com SIP/2.0',
    'Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK' + tag,
    'From: <sip:c@example.net>;tag=' + tag,
    'To: <sip:agent@example.com>',
    'Call-ID: ' + tag,
    'CSeq: 1 MESSAGE',
    ...(cl ? [cl] : []),
    '',
    body,
  ].join('\r\n');

/** Frames as strings ('PING' for a keep-alive) to compare whole sequences. */
const show = (frames: Frame[]): string[] => frames.map((f) => (f.kind === 'ping' ? 'PING' : f.data.toString('latin1')));

function feed(chunks: Buffer[], framer = new StreamFramer()): string[] {
  return chunks.flatMap((c) => show(framer.push(c)));
}

describe('StreamFramer', () => {
  const a = request('a', 'hello\r\n\r\nworld');
  const b = request('b');
  const c = request('c', 'ü'.repeat(10));
  const stream = Buffer.from(a + '\r\n\r\n' + b + c, 'utf8');
  const expected = [a, 'PING', b, Buffer.from(c, 'utf8').toString('latin1')];

  it('returns several messages from one chunk, with the ping between them', () => {
    expect(feed([stream])).toEqual(expected);
  });

  it('gives the same frames when the stream is split at any byte offset', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(feed([stream.subarray(0, i), stream.subarray(i)]), `split at ${i}`).toEqual(expected);
    }
  });

  it('gives the same frames when fed one byte at a time or in 3 random-sized pieces', () => {
    expect(feed([...stream].map((x) => Buffer.from([x])))).toEqual(expected);
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let round = 0; round < 200; round++) {
      const [x, y] = [rnd(stream.length), rnd(stream.length)].sort((p, q) => p - q) as [number, number];
      expect(feed([stream.subarray(0, x), stream.subarray(x, y), stream.subarray(y)])).toEqual(expected);
    }
  });

  it('reports a CRLFCRLF keep-alive even when split across chunks, and not a lone CRLF pong', () => {
    expect(feed([Buffer.from('\r\n\r\n')])).toEqual(['PING']);
    expect(feed([Buffer.from('\r\n'), Buffer.from('\r'), Buffer.from('\n')])).toEqual(['PING']);
    expect(feed([Buffer.from('\r\n\r\n\r\n\r\n')])).toEqual(['PING', 'PING']);
    expect(feed([Buffer.from('\r\n')])).toEqual([]);
    const f = new StreamFramer();
    expect(feed([Buffer.from('\r\n'), Buffer.from(b)], f)).toEqual([b]);
    expect(f.buffered).toBe(0);
  });

  it('reads compact and folded Content-Length', () => {
    const compact = request('d', 'xyz', 'l: 3');
    const folded = request('e', 'xyz', 'Content-Length:\r\n 3');
    expect(feed([Buffer.from(compact + folded)])).toEqual([compact, folded]);
  });

  it('frames a message without Content-Length as having no body', () => {
    const noCl = request('f', '', '');
    expect(feed([Buffer.from(noCl + b)])).toEqual([noCl, b]);
  });

  it('frames LF-only header sections', () => {
    const lf = request('g', 'abc').replace(/\r\n/g, '\n');
    expect(feed([Buffer.from(lf)])).toEqual([lf]);
  });

  it('waits for the rest of the body', () => {
    const f = new StreamFramer();
    expect(f.push(Buffer.from(a.slice(0, -3)))).toEqual([]);
    expect(f.buffered).toBe(a.length - 3);
    expect(show(f.push(Buffer.from(a.slice(-3))))).toEqual([a]);
  });

  describe('errors that must close the connection', () => {
    const limits = { maxHeaderBytes: 1024, maxBodyBytes: 2048 };

    it('rejects an oversized header section', () => {
      const big = request('h', '', `X-Big: ${'x'.repeat(2000)}\r\nContent-Length: 0`);
      expect(() => new StreamFramer(limits).push(Buffer.from(big))).toThrow(FramingError);
    });

    it('rejects a Content-Length above the body limit before the body arrives', () => {
      expect(() => new StreamFramer(limits).push(Buffer.from(request('i', '', 'Content-Length: 4096')))).toThrow(FramingError);
    });

    it('rejects a malformed or conflicting Content-Length', () => {
      expect(() => new StreamFramer().push(Buffer.from(request('j', '', 'Content-Length: -5')))).toThrow(FramingError);
      expect(() => new StreamFramer().push(Buffer.from(request('k', 'ab', 'Content-Length: 2\r\nl: 3')))).toThrow(/conflicting/);
    });

    it('buffers garbage without a header end only up to the limit', () => {
      const f = new StreamFramer(limits);
      const junk = Buffer.alloc(256, 'z');
      for (let i = 0; i < 4; i++) expect(f.push(junk)).toEqual([]);
      expect(f.buffered).toBe(1024);
      expect(() => f.push(Buffer.from('z'))).toThrow(FramingError);
    });
  });
});
