/**
 * Opus <-> G.711 mu-law for the WebRTC leg, with opusscript (libopus built to WASM, no native
 * build). Both directions run at 8 kHz mono: the carrier leg is narrowband anyway, and libopus
 * resamples internally (a decoder may run at any of its rates whatever the sender encoded).
 * The RTP clock stays 48 kHz whatever the rate (RFC 7587 §4.1), which the link takes care of.
 *
 * We drive opusscript's WASM module (its libopus handler, malloc and heap) directly instead of its
 * `OpusScript` wrapper, because the wrapper of 0.1.1 breaks with many instances in one thread:
 *  - it mallocs its PCM buffers at `ptr` but views them as `HEAPU16.subarray(ptr, ...)`, which
 *    starts at byte 2 x ptr: outside the allocation, over other instances' encoder/decoder state
 *    (one call's audio corrupting another's), and past the 16 MB heap from about 40 calls on,
 *    where `set` throws "offset is out of bounds" and takes the media worker down with every call
 *    on it;
 *  - its views are made once, so when the heap grows they are detached and every instance throws.
 * Here every view is made at the address malloc returned, over the heap as it is at that moment.
 * The handler's PCM format is its own: one byte of the little-endian samples per 16-bit element,
 * in both directions (the C++ side packs and unpacks them), so PCM regions are twice the size.
 */
import { createRequire } from 'node:module';
import { decodeMuLaw, encodeMuLaw } from '../codec/g711.js';

/** 20 ms at 8 kHz. */
const FRAME = 160;
const RATE = 8000;
const VOIP = 2048;
/** What one decode may return: the handler decodes up to 5760 samples (120 ms at 48 kHz). */
const MAX_DECODED = 5760;
const MAX_PACKET = 1276 * 3;
/** Region sizes in bytes: PCM as one byte per 16-bit element (see above), packets as bytes. */
const PCM_IN_BYTES = FRAME * 2 * 2;
const PCM_OUT_BYTES = MAX_DECODED * 2 * 2;

interface OpusHandler {
  _encode(pcmPtr: number, pcmBytes: number, outPtr: number, frameSize: number): number;
  _decode(packetPtr: number, packetBytes: number, pcmPtr: number): number;
}

/** The part of opusscript's emscripten module we use. */
interface OpusNative {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  OpusScriptHandler: { new (rate: number, channels: number, application: number): OpusHandler; destroy_handler(h: OpusHandler): void };
}

let native: OpusNative | undefined;
/** One WASM instance per thread (each media worker has its own), created on first use. */
function opusNative(): OpusNative {
  if (!native) {
    const req = createRequire(import.meta.url);
    native = (req('opusscript/build/opusscript_native_wasm.js') as () => OpusNative)();
  }
  return native;
}

const OPUS_ERRORS: Record<number, string> = { [-1]: 'bad argument', [-2]: 'buffer too small', [-3]: 'internal error', [-4]: 'invalid packet', [-5]: 'unimplemented', [-6]: 'invalid state', [-7]: 'memory allocation failed' };

export class OpusMuLaw {
  private readonly n = opusNative();
  private readonly enc = new this.n.OpusScriptHandler(RATE, 1, VOIP);
  private readonly dec = new this.n.OpusScriptHandler(RATE, 1, VOIP);
  /** One block (8-aligned from malloc): PCM in, PCM out, packet in, packet out. */
  private readonly base = this.n._malloc(PCM_IN_BYTES + PCM_OUT_BYTES + 2 * MAX_PACKET);
  private readonly pcmIn = this.base;
  private readonly pcmOut = this.base + PCM_IN_BYTES;
  private readonly packetIn = this.pcmOut + PCM_OUT_BYTES;
  private readonly packetOut = this.packetIn + MAX_PACKET;
  private readonly pcm = new Int16Array(FRAME);
  private deleted = false;

  /** One 160-byte mu-law frame -> one Opus packet (20 ms). */
  encode(mulaw: Buffer): Buffer {
    if (this.deleted) throw new Error('Opus codec used after delete()');
    decodeMuLaw(mulaw.subarray(0, FRAME), this.pcm);
    const bytes = new Uint16Array(this.n.HEAPU8.buffer, this.pcmIn, FRAME * 2);
    for (let i = 0; i < FRAME; i++) {
      const s = this.pcm[i]!;
      bytes[2 * i] = s & 0xff;
      bytes[2 * i + 1] = (s >> 8) & 0xff;
    }
    const len = this.enc._encode(this.pcmIn, FRAME * 2, this.packetOut, FRAME);
    if (len < 0) throw new Error(`Opus encode failed: ${OPUS_ERRORS[len] ?? len}`);
    return Buffer.from(this.n.HEAPU8.subarray(this.packetOut, this.packetOut + len));
  }

  /** One Opus packet (any duration the far end chose) -> mu-law at 8 kHz. */
  decode(packet: Buffer): Buffer {
    if (this.deleted) throw new Error('Opus codec used after delete()');
    if (packet.length === 0 || packet.length > MAX_PACKET) throw new Error(`Opus packet of ${packet.length} bytes`);
    this.n.HEAPU8.set(packet, this.packetIn);
    const samples = this.dec._decode(this.packetIn, packet.length, this.pcmOut);
    if (samples < 0) throw new Error(`Opus decode failed: ${OPUS_ERRORS[samples] ?? samples}`);
    const n = Math.min(samples, MAX_DECODED);
    const bytes = new Uint16Array(this.n.HEAPU8.buffer, this.pcmOut, n * 2);
    const pcm = new Int16Array(n);
    for (let i = 0; i < n; i++) pcm[i] = (bytes[2 * i + 1]! << 8) | bytes[2 * i]!;
    return encodeMuLaw(pcm) as Buffer;
  }

  /** Frees the WASM state (per call: many calls must not leak it). Idempotent. */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.n.OpusScriptHandler.destroy_handler(this.enc);
    this.n.OpusScriptHandler.destroy_handler(this.dec);
    this.n._free(this.base);
  }
}
