import { describe, expect, it } from 'vitest';
import { aLawToMuLaw, decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw, muLawToALaw, MULAW_SILENCE } from './g711.js';
import { ToneGenerator } from '../dsp/tone.js';
import { detectDtmf, hasTone } from '../dsp/goertzel.js';
import { DTMF_FREQS } from '../dsp/tone.js';

describe('G.711', () => {
  it('round-trips every code word (encode(decode(x)) === x) for both laws', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const mu = encodeMuLaw(decodeMuLaw(all));
    const a = encodeALaw(decodeALaw(all));
    // mu-law has two zeros (0x7f and 0xff); both decode to 0 and re-encode to 0xff.
    expect([...mu].filter((v, i) => v !== i)).toEqual([0xff]);
    expect([...a]).toEqual([...all]);
  });

  it('keeps a tone a tone through encode/decode and law-to-law transcoding', () => {
    const pcm = new ToneGenerator([1000], 8000).next(800);
    expect(hasTone(decodeMuLaw(encodeMuLaw(pcm)), 1000, 8000, 0.9)).toBe(true);
    expect(hasTone(decodeALaw(muLawToALaw(encodeMuLaw(pcm))), 1000, 8000, 0.9)).toBe(true);
    expect(hasTone(decodeMuLaw(aLawToMuLaw(encodeALaw(pcm))), 1000, 8000, 0.9)).toBe(true);
  });

  it('decodes the silence code to 0 and maps well-known values', () => {
    expect(decodeMuLaw(Uint8Array.of(MULAW_SILENCE))[0]).toBe(0);
    expect(decodeMuLaw(Uint8Array.of(0x00))[0]).toBe(-32124);
    expect(decodeMuLaw(Uint8Array.of(0x80))[0]).toBe(32124);
    expect(decodeALaw(Uint8Array.of(0xd5))[0]).toBe(8);
  });
});

describe('Goertzel', () => {
  it('detects each DTMF digit and rejects a single tone', () => {
    for (const [digit, freqs] of Object.entries(DTMF_FREQS)) {
      expect(detectDtmf(new ToneGenerator(freqs, 8000).next(320), 8000)).toBe(digit);
    }
    expect(detectDtmf(new ToneGenerator([1000], 8000).next(320), 8000)).toBeNull();
  });
});
