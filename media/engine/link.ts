/**
 * What a media session talks to: the engine, whatever it is (a WebSocket engine in the gateway's
 * protocol or a stream dialect, a WebRTC far end, or a builtin running in the worker). Audio
 * formats: 'mulaw8k' frames are G.711 mu-law at 8 kHz; 'l16-8k' and 'l16-16k' frames are 16-bit
 * little-endian PCM at 8 and 16 kHz.
 */
import type { EngineCloseInfo, EngineControl } from './types.js';

export type EngineFormat = 'mulaw8k' | 'l16-8k' | 'l16-16k';

export interface EngineHandlers {
  /** Audio for the caller, in `format` (default: the link's replyFormat, else its format). */
  audio(payload: Buffer, format?: EngineFormat): void;
  mark(name: string): void;
  clear(): void;
  control(ev: EngineControl): void;
  closed(info: EngineCloseInfo): void;
  /** Play silence but keep the queued audio (true), or play it again (false). */
  pause?(on: boolean): void;
  /** A message the engine's protocol does not allow, not acted on; `log` for the first of its kind. */
  rejected?(reason: string, log: boolean): void;
}

export interface EngineLink {
  /** Caller audio as the engine gets it. */
  readonly format: EngineFormat;
  /** The engine's audio, when it differs from `format`. */
  readonly replyFormat?: EngineFormat;
  /**
   * The far end sends audio as it happens (a WebRTC peer, an echo), never ahead of time: queued
   * audio beyond the jitter it needs is delay, and the session trims it (see RealtimeTrim).
   */
  readonly realtime?: boolean;
  /** `frame` may be a view of a buffer that is reused afterwards: use or copy it before returning. */
  sendAudio(frame: Uint8Array, timestampMs: number): void;
  sendDtmf(digit: string, durationMs?: number): void;
  /** A mark the engine queued was reached, or (`cleared`) dropped with the audio before it. */
  sendMark(name: string, cleared?: boolean): void;
  /** Called every 20 ms with the caller queue's length and bound (flow control, drain reports). */
  playout?(queuedFrames: number, maxFrames: number): void;
  sendEvent(name: string, data: Record<string, unknown>): void;
  sendError(code: string, message: string): void;
  /** Idempotent: `stop` to the engine, then close. */
  stop(reason?: string): void;
}
