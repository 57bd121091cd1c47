/**
 * A stream dialect: how one engine protocol other than the gateway's own (docs/engine-protocol.md)
 * is spelled on the WebSocket. A dialect is a pure codec with the state its protocol needs; the
 * DialectLink does the I/O and the media session does the audio. Written from each protocol's
 * public documentation (see docs/stream-dialects.md).
 */
import type { EngineFormat } from '../link.js';
import type { EngineControl, StreamMeta } from '../types.js';

/** A WebSocket message: a string goes as a text frame, a Buffer as a binary frame. */
export type WireOut = string | Buffer;

/** What one message from the engine asks of the call. */
export type DialectAction =
  /** Audio for the caller, in `format` (the dialect's reply format unless given). */
  | { kind: 'audio'; payload: Buffer; format?: EngineFormat }
  /** A position in the caller's audio; `markPlayed` gets this name back when it is reached. */
  | { kind: 'mark'; name: string }
  /** Drop the caller's queued audio (barge-in). */
  | { kind: 'clear' }
  /** Play silence but keep what is queued (true), or go on playing it (false). */
  | { kind: 'pause'; on: boolean }
  | { kind: 'control'; control: EngineControl }
  /** An answer to the engine on the same socket (a status report). */
  | { kind: 'reply'; out: WireOut }
  /** Not acted on: a message the protocol does not define or that is malformed here. Counted and logged. */
  | { kind: 'rejected'; reason: string };

export interface Dialect {
  /** Sec-WebSocket-Protocol the gateway asks for, when the protocol names one. */
  readonly subprotocol?: string;
  /** Larger frames from the engine close the socket (the platform's own limit). */
  readonly maxFrameBytes: number;
  /** Caller audio as the engine gets it, and the engine's audio as it sends it. */
  readonly format: EngineFormat;
  readonly replyFormat: EngineFormat;
  /** Messages sent as soon as the socket is open. */
  opening(meta: StreamMeta, reconnect: boolean): WireOut[];
  /** One 20 ms frame of caller audio in `format`, or null to send nothing. */
  audio(frame: Uint8Array): WireOut | null;
  dtmf(digit: string, durationMs: number): WireOut | null;
  /** A mark this dialect queued was reached (or dropped by a clear when `cleared`). */
  markPlayed(name: string, cleared: boolean): WireOut | null;
  /** Every 20 ms: the caller's queue length and bound, for flow control and drain reports. */
  playout(queuedFrames: number, maxFrames: number): WireOut | null;
  receive(data: Buffer, isBinary: boolean): DialectAction[];
  /** Sent before the gateway closes the socket at the end of the call. */
  closing(reason: string): WireOut | null;
}

const SILENCE_BYTE: Record<EngineFormat, number> = { mulaw8k: 0xff, 'l16-8k': 0, 'l16-16k': 0 };
export const BYTES_PER_20MS: Record<EngineFormat, number> = { mulaw8k: 160, 'l16-8k': 320, 'l16-16k': 640 };

/** `n` bytes of silence in `format`. */
export function silence(format: EngineFormat, n: number): Buffer {
  return Buffer.alloc(n, SILENCE_BYTE[format]);
}

/**
 * Marks a dialect puts in the caller's queue, under names of its own (so an engine's mark name can
 * never be taken for one of the dialect's), with what each one stands for. Bounded.
 */
export class MarkBook<T> {
  private seq = 0;
  private readonly pending = new Map<string, T>();
  constructor(private readonly max: number) {}

  /** A fresh queue name for `entry`, or null when `max` marks are already pending. */
  add(entry: T): string | null {
    if (this.pending.size >= this.max) return null;
    const name = `d${++this.seq}`;
    this.pending.set(name, entry);
    return name;
  }

  take(name: string): T | undefined {
    const e = this.pending.get(name);
    this.pending.delete(name);
    return e;
  }

  /** Forget the pending entries `drop` selects: their marks will pass unreported. */
  forget(drop: (e: T) => boolean): void {
    for (const [k, e] of this.pending) if (drop(e)) this.pending.delete(k);
  }

  get size(): number {
    return this.pending.size;
  }
}
