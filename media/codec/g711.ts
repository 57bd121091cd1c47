/**
 * G.711 mu-law and A-law (ITU-T G.711) <-> 16-bit linear PCM. Decoding uses 256-entry tables;
 * encoding uses the segment search of the reference algorithm, so encode(decode(x)) === x.
 */
const BIAS = 0x84;
const CLIP = 32635;

function muLawEncodeSample(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function muLawDecodeSample(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const t = (((u & 0x0f) << 3) + BIAS) << exponent;
  return u & 0x80 ? BIAS - t : t - BIAS;
}

function aLawEncodeSample(sample: number): number {
  let s = sample >> 3; // A-law works on 13-bit magnitudes
  let mask: number;
  if (s >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    s = -s - 1;
  }
  const seg = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff].findIndex((end) => s <= end);
  if (seg < 0) return 0x7f ^ mask;
  const aval = (seg << 4) | ((seg < 2 ? s >> 1 : s >> seg) & 0x0f);
  return aval ^ mask;
}

function aLawDecodeSample(byte: number): number {
  const a = byte ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

const MU_DECODE = new Int16Array(256).map((_, i) => muLawDecodeSample(i));
const A_DECODE = new Int16Array(256).map((_, i) => aLawDecodeSample(i));
/** Encoding tables over the 14-bit (mu) / 13-bit (A) index space for speed. */
const MU_ENCODE = new Uint8Array(65536).map((_, i) => muLawEncodeSample(i - 32768));
const A_ENCODE = new Uint8Array(65536).map((_, i) => aLawEncodeSample(i - 32768));

/** The mu-law byte for digital silence (what we pace out when the engine is quiet). */
export const MULAW_SILENCE = 0xff;
export const ALAW_SILENCE = 0xd5;

export function decodeMuLaw(buf: Uint8Array, out = new Int16Array(buf.length)): Int16Array {
  for (let i = 0; i < buf.length; i++) out[i] = MU_DECODE[buf[i]!]!;
  return out;
}

export function encodeMuLaw(pcm: Int16Array, out: Uint8Array = Buffer.allocUnsafe(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) out[i] = MU_ENCODE[pcm[i]! + 32768]!;
  return out;
}

export function decodeALaw(buf: Uint8Array, out = new Int16Array(buf.length)): Int16Array {
  for (let i = 0; i < buf.length; i++) out[i] = A_DECODE[buf[i]!]!;
  return out;
}

export function encodeALaw(pcm: Int16Array, out: Uint8Array = Buffer.allocUnsafe(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) out[i] = A_ENCODE[pcm[i]! + 32768]!;
  return out;
}

const A_TO_MU = new Uint8Array(256).map((_, i) => MU_ENCODE[A_DECODE[i]! + 32768]!);
const MU_TO_A = new Uint8Array(256).map((_, i) => A_ENCODE[MU_DECODE[i]! + 32768]!);

/** Byte-wise transcoding between the two laws (one table lookup per sample). */
export function aLawToMuLaw(buf: Uint8Array, out: Uint8Array = Buffer.allocUnsafe(buf.length)): Uint8Array {
  for (let i = 0; i < buf.length; i++) out[i] = A_TO_MU[buf[i]!]!;
  return out;
}

export function muLawToALaw(buf: Uint8Array, out: Uint8Array = Buffer.allocUnsafe(buf.length)): Uint8Array {
  for (let i = 0; i < buf.length; i++) out[i] = MU_TO_A[buf[i]!]!;
  return out;
}
