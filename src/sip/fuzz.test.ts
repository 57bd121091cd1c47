import { readFileSync, readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { FramingError, StreamFramer } from './framer.js';
import { parseAndValidate, SipParseError } from './parser.js';
import { serialize } from './serializer.js';
import { CORPUS } from '../../test/helpers/corpus.js';

const seeds = readdirSync(CORPUS).filter((f) => f.endsWith('.sip')).sort().map((f) => readFileSync(new URL(f, CORPUS)));

/** mulberry32: small seeded PRNG so every run mutates the same way. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
}

const SPECIAL = [...Buffer.from('\r\n:<>";,\\ \t%@?=/')];

function mutate(src: Buffer, rnd: (n: number) => number): Buffer {
  let b = Buffer.from(src);
  for (let k = 1 + rnd(4); k > 0; k--) {
    const at = rnd(b.length + 1);
    switch (rnd(5)) {
      case 0: // flip bits of one byte
        if (b.length) b[Math.min(at, b.length - 1)]! ^= 1 << rnd(8);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: // insert a syntax-significant byte (CR, LF, ':', '<', '"' ...)
        b = Buffer.concat([b.subarray(0, at), Buffer.from([SPECIAL[rnd(SPECIAL.length)]!]), b.subarray(at)]);
        break;
      case 3: // delete a short run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rnd(8))]);
        break;
      default: // duplicate a slice (repeated headers, separators, digits)
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rnd(40)), b.subarray(at)]);
    }
  }
  return b;
}

it('2000 mutated corpus messages only ever fail with SipParseError / FramingError', () => {
  const rnd = prng(4475);
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const input = mutate(seeds[i % seeds.length]!, rnd);
    for (const stream of [false, true]) {
      try {
        const m = parseAndValidate(input, stream);
        accepted++;
        // Whatever is accepted must serialise to something that parses to the same message.
        expect(parseAndValidate(serialize(m)).headers.get('Call-ID')).toBe(m.headers.get('Call-ID'));
      } catch (e) {
        if (!(e instanceof SipParseError)) throw new Error(`mutation ${i} (stream=${stream}) threw ${String(e)}:\n${input.toString('latin1')}`);
        expect([400, 501, 505, 513]).toContain(e.status);
      }
    }
    try {
      new StreamFramer().push(input);
    } catch (e) {
      if (!(e instanceof FramingError)) throw new Error(`framer threw ${String(e)} on mutation ${i}`);
    }
  }
  expect(accepted).toBeGreaterThan(0);
});
