/**
 * Between the call's G.711 mu-law (8 kHz, 20 ms frames) and an engine's audio format: mu-law as
 * is, or 16-bit little-endian PCM at 8 or 16 kHz (resampled with the session's stateful filters).
 */
import { encodeMuLaw } from '../codec/g711.js';
import type { Downsampler16to8, Upsampler8to16 } from '../codec/resample.js';
import type { EngineFormat } from './link.js';

/** The engine's audio as mu-law 8 kHz, or null for PCM of odd length. */
export function engineToMuLaw(payload: Buffer, f: EngineFormat, down: Downsampler16to8): Buffer | null {
  if (f === 'mulaw8k') return payload;
  if (payload.length % 2) return null;
  const pcm = new Int16Array(payload.length / 2);
  for (let i = 0; i < pcm.length; i++) pcm[i] = payload.readInt16LE(2 * i);
  return Buffer.from(encodeMuLaw(f === 'l16-16k' ? down.process(pcm) : pcm));
}

/** One frame of the caller's audio (decoded to 8 kHz PCM) as L16 in the engine's format. */
export function pcm8ToEngine(pcm8: Int16Array, f: Exclude<EngineFormat, 'mulaw8k'>, up: Upsampler8to16): Buffer {
  const pcm = f === 'l16-16k' ? up.process(pcm8) : pcm8;
  const buf = Buffer.allocUnsafe(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) buf.writeInt16LE(pcm[i]!, 2 * i);
  return buf;
}
