/** The engine-failure announcement the media session plays (profile `engineFailure.audioFile`). */
import { readFileSync } from 'node:fs';
import { encodeMuLaw } from './codec/g711.js';
import { wavChunks } from './codec/wav.js';

/** The failure announcement: a WAV (PCM16 or mu-law, 8 kHz mono) or raw mu-law file. */
export function readAnnouncement(file: string): Buffer {
  const data = readFileSync(file);
  const wav = wavChunks(data);
  if (!wav) return data;
  if (!wav.data) return Buffer.alloc(0);
  if (wav.fmt?.format === 7) return Buffer.from(wav.data);
  const pcm = new Int16Array(wav.data.length >> 1);
  for (let i = 0; i < pcm.length; i++) pcm[i] = wav.data.readInt16LE(2 * i);
  return Buffer.from(encodeMuLaw(pcm));
}
