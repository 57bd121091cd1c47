/** The engine-failure announcement the media session plays (profile `engineFailure.audioFile`). */
import { readFileSync } from 'node:fs';
import { encodeMuLaw } from './codec/g711.js';

/** The failure announcement: a WAV (PCM16 or mu-law, 8 kHz mono) or raw mu-law file. */
export function readAnnouncement(file: string): Buffer {
  const data = readFileSync(file);
  if (data.subarray(0, 4).toString('latin1') !== 'RIFF') return data;
  let off = 12;
  let format = 0;
  while (off + 8 <= data.length) {
    const id = data.subarray(off, off + 4).toString('latin1');
    const size = data.readUInt32LE(off + 4);
    if (id === 'fmt ') format = data.readUInt16LE(off + 8);
    if (id === 'data') {
      const body = data.subarray(off + 8, off + 8 + size);
      if (format === 7) return Buffer.from(body);
      const pcm = new Int16Array(body.length >> 1);
      for (let i = 0; i < pcm.length; i++) pcm[i] = body.readInt16LE(2 * i);
      return Buffer.from(encodeMuLaw(pcm));
    }
    off += 8 + size + (size & 1);
  }
  return Buffer.alloc(0);
}
