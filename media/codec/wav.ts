/**
 * The chunks of a RIFF/WAVE file that audio needs: the `fmt ` fields seen before the first `data`
 * chunk, and that chunk (truncated to what the file holds). Chunks are padded to even sizes
 * (RIFF). Shared by the failure announcement and jambonz's `playAudio`.
 */
export interface WavFmt {
  format: number;
  channels: number;
  rate: number;
  bits: number;
  /** Bytes of the fmt chunk (16 or more in a well-formed file; the fields past it read as 0). */
  length: number;
}

/** Null when the file does not start with `RIFF`; `data` undefined when there is no data chunk. */
export function wavChunks(file: Buffer): { fmt?: WavFmt; data?: Buffer } | null {
  if (file.length < 12 || file.toString('latin1', 0, 4) !== 'RIFF') return null;
  let off = 12;
  let fmt: WavFmt | undefined;
  while (off + 8 <= file.length) {
    const id = file.toString('latin1', off, off + 4);
    const size = file.readUInt32LE(off + 4);
    const body = file.subarray(off + 8, Math.min(file.length, off + 8 + size));
    if (id === 'fmt ' && body.length >= 2) {
      fmt = { format: body.readUInt16LE(0), channels: body.length >= 4 ? body.readUInt16LE(2) : 0, rate: body.length >= 8 ? body.readUInt32LE(4) : 0, bits: body.length >= 16 ? body.readUInt16LE(14) : 0, length: body.length };
    }
    if (id === 'data') return { ...(fmt ? { fmt } : {}), data: body };
    off += 8 + size + (size & 1);
  }
  return fmt ? { fmt } : {};
}
