/**
 * What a media session talks to: the engine, whatever it is (a WebSocket engine in one of two
 * protocols, or a builtin running in the worker). Audio formats: 'mulaw8k' frames are G.711
 * mu-law at 8 kHz; 'l16-16k' frames are 16-bit little-endian PCM at 16 kHz.
 */
import type { EngineCloseInfo, EngineControl } from './types.js';

export type EngineFormat = 'mulaw8k' | 'l16-16k';

export interface EngineHandlers {
  audio(payload: Buffer): void;
  mark(name: string): void;
  clear(): void;
  control(ev: EngineControl): void;
  closed(info: EngineCloseInfo): void;
}

export interface EngineLink {
  readonly format: EngineFormat;
  /**
   * The far end sends audio as it happens (a WebRTC peer, an echo), never ahead of time: queued
   * audio beyond the jitter it needs is delay, and the session trims it (see RealtimeTrim).
   */
  readonly realtime?: boolean;
  /** `frame` may be a view of a buffer that is reused afterwards: use or copy it before returning. */
  sendAudio(frame: Uint8Array, timestampMs: number): void;
  sendDtmf(digit: string): void;
  sendMark(name: string): void;
  sendEvent(name: string, data: Record<string, unknown>): void;
  sendError(code: string, message: string): void;
  /** Idempotent: `stop` to the engine, then close. */
  stop(reason?: string): void;
}
