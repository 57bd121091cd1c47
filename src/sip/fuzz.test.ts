import { readFileSync, readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { FramingError, StreamFramer } from './framer.js';
import { parseAndValidate, SipParseError } from './parser.js';
import { serialize } from './serializer.js';
import { CORPUS } from '../../test/helpers/corpus.js';
import { carrierSeeds, mutate, prng } from '../../test/helpers/sip-mutate.js';

// The same seeds and mutations as `npm run fuzz:sip`, at the parser and framer only.
const seeds = [...readdirSync(CORPUS).filter((f) => f.endsWith('.sip')).sort().map((f) => readFileSync(new URL(f, CORPUS))), ...carrierSeeds('+18990000001')];

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
