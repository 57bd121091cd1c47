/**
 * One WebSocket to an AI engine for one call attempt (twilio or l16 variant, see
 * docs/engine-protocol.md). Sends the opening messages, the caller's audio and events; validates
 * everything the engine sends and answers malformed messages with an `error` event.
 */
import { WebSocket } from 'ws';
import { EngineSocketEnd, openEngineSocket, toBuffer } from './socket.js';
import { signEngineToken } from './token.js';
import type { EngineCloseInfo, EngineControl, EngineErrorCode, EngineOptions, EngineStats } from './types.js';
import { MediaFrameWriter, parseEngineMessage, startBody, type EngineInbound, type JsonObject } from './wire.js';
import { guard } from '../../src/util/faults.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_FRAME_BYTES = 65536;
const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;
/** Messages the gateway itself defines; sendEvent may not use these names. */
const RESERVED = new Set(['connected', 'start', 'media', 'dtmf', 'mark', 'stop', 'error', 'clear']);

export class EngineConnection {
  readonly stats: EngineStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, errorsSent: 0, backpressure: 0 };
  onAudio?: (payload: Buffer) => void;
  onMark?: (name: string) => void;
  onClear?: () => void;
  onControl?: (ev: EngineControl) => void;
  onClose?: (info: EngineCloseInfo) => void;
  /** A callback above threw; default: process.emitWarning. The connection stays up. */
  onHandlerError?: (err: unknown) => void;
  /** Resolves once, when the socket has closed (same info as onClose). */
  readonly closed: Promise<EngineCloseInfo>;

  private seq = 0;
  private chunk = 0;
  private readonly end: EngineSocketEnd;
  private resolveClosed!: (info: EngineCloseInfo) => void;
  private readonly maxBuffered: number;
  private readonly media: MediaFrameWriter;

  private constructor(private readonly ws: WebSocket, private readonly opts: EngineOptions) {
    this.maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.media = new MediaFrameWriter(opts.meta.streamSid);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    ws.on('message', guard('media.engine.message', (data: WebSocket.RawData, isBinary: boolean) => this.receive(toBuffer(data), isBinary), { context: () => ({ callId: opts.meta.callSid }) }));
    this.end = new EngineSocketEnd(ws, opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, (info) => this.closedWith(info));
  }

  /** Connects, then sends the opening messages. Rejects with an Error naming the URL and the cause. */
  static async open(opts: EngineOptions): Promise<EngineConnection> {
    const headers: Record<string, string> = {};
    if (opts.secret) headers.authorization = `Bearer ${signEngineToken(opts.meta, opts.secret)}`;
    const ws = await openEngineSocket({
      url: opts.url,
      headers,
      maxPayload: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      timeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    const conn = new EngineConnection(ws, opts);
    conn.sendOpening();
    return conn;
  }

  get protocol(): EngineOptions['protocol'] { return this.opts.protocol; }
  get streamSid(): string { return this.opts.meta.streamSid; }
  get isOpen(): boolean { return this.end.isOpen; }
  /** Bytes queued in the socket, not yet written. */
  get bufferedAmount(): number { return this.ws.bufferedAmount; }
  get closeInfo(): EngineCloseInfo | null { return this.end.closeInfo; }

  /** twilio: one mu-law frame (8 kHz); l16: 16-bit LE PCM at 16 kHz. False when dropped. */
  sendAudio(frame: Uint8Array, timestampMs: number): boolean {
    if (!this.isOpen) return false;
    if (!this.end.audioRoom(this.maxBuffered)) {
      this.stats.backpressure++;
      return false;
    }
    if (this.opts.protocol === 'l16') return this.write(frame, true);
    // Same JSON as sendJson('media', {media: {track, chunk, timestamp, payload}}), built without it.
    return this.write(this.media.write(++this.seq, ++this.chunk, Math.max(0, Math.round(timestampMs)), frame), false);
  }

  sendDtmf(digit: string): boolean { return this.sendJson('dtmf', { dtmf: { track: 'inbound_track', digit } }); }
  /** Call only once the audio queued before the engine's mark has been played. */
  sendMark(name: string): boolean { return this.sendJson('mark', { mark: { name } }); }
  sendError(code: EngineErrorCode | string, message: string): boolean {
    const sent = this.sendJson('error', { error: { code, message } });
    if (sent) this.stats.errorsSent++;
    return sent;
  }

  /** A gateway extension event, e.g. sendEvent('screenPop', {...}) -> {event:'screenPop', screenPop:{...}}. */
  sendEvent(name: string, data: JsonObject = {}): boolean {
    if (RESERVED.has(name)) throw new Error(`sendEvent: '${name}' is a protocol message, not an extension event`);
    return this.sendJson(name, { [name]: data });
  }

  /** Sends `stop` and closes with 1000. Idempotent. */
  stop(reason = 'call ended'): void {
    this.end.stop(reason, () => void this.sendJson('stop', { stop: { accountSid: this.opts.meta.accountSid, callSid: this.opts.meta.callSid, reason } }));
  }

  private sendOpening(): void {
    if (this.opts.protocol === 'twilio') this.write(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }), false);
    this.sendJson('start', startBody(this.opts.protocol, this.opts.meta, this.opts.reconnect === true));
  }

  private sendJson(event: string, body: JsonObject): boolean {
    if (!this.isOpen) return false;
    if (this.ws.bufferedAmount > 4 * this.maxBuffered) {
      this.end.abort(1008, `engine too slow: ${this.ws.bufferedAmount} bytes unsent`);
      return false;
    }
    const msg = { event, sequenceNumber: String(++this.seq), streamSid: this.opts.meta.streamSid, ...body };
    return this.write(JSON.stringify(msg), false);
  }

  /** A Buffer is sent as is (a text frame when !binary); ws masks it into one new buffer and one write. */
  private write(data: string | Uint8Array, binary: boolean): boolean {
    this.ws.send(data, { binary });
    this.stats.framesOut++;
    this.stats.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    return true;
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.stats.framesIn++;
    this.stats.bytesIn += data.length;
    if (this.end.ended) return;
    let msg: EngineInbound;
    try {
      msg = parseEngineMessage(data, isBinary, this.opts.protocol, this.opts.meta.streamSid);
    } catch (err) {
      msg = { kind: 'error', code: 'invalid-message', message: `message could not be parsed: ${(err as Error).message}` };
    }
    try {
      switch (msg.kind) {
        case 'audio': this.onAudio?.(msg.payload); break;
        case 'mark': this.onMark?.(msg.name); break;
        case 'clear': this.onClear?.(); break;
        case 'control': this.onControl?.(msg.control); break;
        case 'error': this.sendError(msg.code, msg.message); break;
      }
    } catch (err) {
      this.handlerError(err);
    }
  }

  private handlerError(err: unknown): void {
    if (this.onHandlerError) {
      try { this.onHandlerError(err); } catch { /* nothing more we can do */ }
    } else {
      process.emitWarning(`engine connection handler threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private closedWith(info: EngineCloseInfo): void {
    this.resolveClosed(info);
    try { this.onClose?.(info); } catch (err) { this.handlerError(err); }
  }
}
