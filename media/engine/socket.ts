/**
 * The WebSocket to an engine, whatever it speaks: connecting with a deadline (an error names the
 * URL and the cause), and the helpers every engine link needs around ws's close and error events.
 */
import { WebSocket, type RawData } from 'ws';
import type { EngineCloseInfo } from './types.js';

export interface EngineSocketOptions {
  url: string;
  headers?: Record<string, string>;
  /** Sec-WebSocket-Protocol to ask for (RFC 6455 §4.1); the server must accept it. */
  subprotocol?: string;
  /** Larger incoming frames close the socket (1009). */
  maxPayload: number;
  timeoutMs: number;
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer };
}

/** The close code ws sends for its receiver errors (other codes: 1002). */
const WS_ERROR_CLOSE_CODES: Record<string, number> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
};

export function describeError(err: Error & { code?: string }): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connection refused (ECONNREFUSED)';
    case 'ENOTFOUND': return 'host not found (ENOTFOUND)';
    case 'ECONNRESET': return 'connection reset (ECONNRESET)';
    case 'ETIMEDOUT': return 'TCP connect timed out (ETIMEDOUT)';
    default: return err.code ? `${err.message} (${err.code})` : err.message;
  }
}

export function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** A WebSocket close reason may hold at most 123 bytes of UTF-8 (RFC 6455 §5.5). */
export function closeReason(text: string): string {
  const b = Buffer.from(text);
  return b.length <= 123 ? text : b.subarray(0, 120).toString('utf8').replace(/\uFFFD+$/, '') + '...';
}

/**
 * Why ws closed the socket after a protocol error of the engine's (ws stops reading after its own
 * close, so the close event will not say it), or null for an error that is not one.
 */
export function protocolErrorClose(err: Error & { code?: string }, maxPayload: number): { code: number; reason: string } | null {
  if (!err.code?.startsWith('WS_ERR_')) return null;
  return err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
    ? { code: 1009, reason: `engine sent a frame larger than ${maxPayload} bytes` }
    : { code: WS_ERROR_CLOSE_CODES[err.code] ?? 1002, reason: `engine protocol error: ${err.message}` };
}

/** Connects; rejects with an Error naming the URL and the cause. */
export function openEngineSocket(o: EngineSocketOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(o.url, o.subprotocol ? [o.subprotocol] : [], {
        headers: o.headers ?? {},
        maxPayload: o.maxPayload,
        perMessageDeflate: false,
        followRedirects: false,
        rejectUnauthorized: o.tls?.rejectUnauthorized ?? true,
        ...(o.tls?.ca !== undefined ? { ca: o.tls.ca } : {}),
      });
    } catch (err) {
      reject(new Error(`cannot connect to engine ${o.url}: ${(err as Error).message}`));
      return;
    }
    let settled = false;
    const fail = (cause: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(`cannot connect to engine ${o.url}: ${cause}`));
    };
    const timer = setTimeout(() => fail(`timed out after ${o.timeoutMs} ms`), o.timeoutMs);
    ws.on('error', (err: Error & { code?: string }) => fail(describeError(err)));
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      fail(`upgrade refused with HTTP ${res.statusCode ?? '?'}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
    });
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ws);
    });
  });
}

/** Audio dropped for this long without relief closes the socket (1008). */
const STALL_MS = 10_000;

/**
 * The end of an engine's socket, the same for every protocol: stopped by us (a last message, then
 * 1000), dropped by us (a limit broken: terminate, the close reports our code and reason), or
 * closed by the engine; and audio backpressure, which closes a socket the engine stopped reading.
 */
export class EngineSocketEnd {
  private stopped = false;
  private closingByUs = false;
  /** Why we closed, when the close event will not say it (ws stops reading after its own close). */
  private override: { code: number; reason: string } | null = null;
  private info: EngineCloseInfo | null = null;
  private stalledSince = 0;

  constructor(
    private readonly ws: WebSocket,
    maxPayload: number,
    onClose: (info: EngineCloseInfo) => void,
  ) {
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself after a protocol error; remember why.
      this.override ??= protocolErrorClose(err, maxPayload);
    });
    ws.on('close', (code, reason) => {
      if (this.info) return;
      this.stopped = true;
      const o = this.override;
      this.info = o ? { code: o.code, reason: o.reason, byUs: true } : { code, reason: reason.toString('utf8'), byUs: this.closingByUs };
      onClose(this.info);
    });
  }

  /** Stopped or dropped by us, or closed: nothing is received or sent any more. */
  get ended(): boolean {
    return this.stopped;
  }

  get isOpen(): boolean {
    return !this.stopped && this.ws.readyState === WebSocket.OPEN;
  }

  get closeInfo(): EngineCloseInfo | null {
    return this.info;
  }

  /**
   * May a frame of audio be written now? Not while more than `maxBuffered` bytes are unsent (the
   * frame is dropped); after STALL_MS of that the socket is dropped (1008).
   */
  audioRoom(maxBuffered: number): boolean {
    if (this.ws.bufferedAmount <= maxBuffered) {
      this.stalledSince = 0;
      return true;
    }
    const now = Date.now();
    if (this.stalledSince === 0) this.stalledSince = now;
    else if (now - this.stalledSince >= STALL_MS) this.abort(1008, `engine too slow: not reading for ${STALL_MS} ms`);
    return false;
  }

  /** Idempotent: `last` (the protocol's goodbye) while the socket is open, then close with 1000. */
  stop(reason: string, last: () => void): void {
    if (this.stopped) return;
    const wasOpen = this.ws.readyState === WebSocket.OPEN;
    if (wasOpen) last();
    this.stopped = true;
    this.closingByUs = true;
    if (wasOpen) this.ws.close(1000, closeReason(reason));
    else if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }

  /** Drops the socket at once (it cannot drain); the close reports `code` and `reason`. */
  abort(code: number, reason: string): void {
    this.override ??= { code, reason };
    this.stopped = true;
    this.ws.terminate();
  }
}
