/**
 * The WebSocket to an engine, whatever it speaks: connecting with a deadline (an error names the
 * URL and the cause), and the helpers every engine link needs around ws's close and error events.
 */
import { WebSocket, type RawData } from 'ws';

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
