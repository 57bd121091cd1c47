/**
 * Opus <-> G.711 mu-law for the WebRTC leg, with opusscript (libopus built to WASM, no native
 * build). Both directions run at 8 kHz mono: the carrier leg is narrowband anyway, and libopus
 * resamples internally (a decoder may run at any of its rates whatever the sender encoded).
 * The RTP clock stays 48 kHz whatever the rate (RFC 7587 §4.1), which the link takes care of.
 */
import OpusScript from 'opusscript';
import { decodeMuLaw, encodeMuLaw } from '../codec/g711.js';

/** 20 ms at 8 kHz. */
const FRAME = 160;

export class OpusMuLaw {
  private readonly enc = new OpusScript(8000, 1, OpusScript.Application.VOIP);
  private readonly dec = new OpusScript(8000, 1, OpusScript.Application.VOIP);
  private readonly pcm = new Int16Array(FRAME);
  private deleted = false;

  /** One 160-byte mu-law frame -> one Opus packet (20 ms). */
  encode(mulaw: Buffer): Buffer {
    decodeMuLaw(mulaw.subarray(0, FRAME), this.pcm);
    return this.enc.encode(Buffer.from(this.pcm.buffer, this.pcm.byteOffset, this.pcm.byteLength), FRAME);
  }

  /** One Opus packet (any duration the far end chose) -> mu-law at 8 kHz. */
  decode(packet: Buffer): Buffer {
    const out = this.dec.decode(packet);
    // Int16Array views need an even byte offset; copy in the (rare) odd case.
    const bytes = out.byteOffset % 2 === 0 ? out : Buffer.from(out);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
    return encodeMuLaw(pcm) as Buffer;
  }

  /** Frees the WASM state (per call: many calls must not leak it). Idempotent. */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.enc.delete();
    this.dec.delete();
  }
}
