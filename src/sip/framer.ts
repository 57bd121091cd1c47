/**
 * Splits a TCP byte stream into SIP messages using Content-Length (RFC 3261 §18.3: mandatory on
 * stream transports). Keep-alive CRLFs between messages (RFC 5626 §3.5.1) are skipped and reported
 * so the transport can answer a double-CRLF ping with a single CRLF pong. Bounded: a header section
 * or body past the limits is a framing error and the connection must be closed, because the stream
 * can no longer be resynchronised.
 */
import { findHeaderEnd } from './parser.js';

export class FramingError extends Error {
  override readonly name = 'FramingError';
}

export interface FramerLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export type Frame = { kind: 'message'; data: Buffer } | { kind: 'ping' };

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Where the search for the end of the current header section resumes (bytes already scanned). */
  private scanFrom = 0;
  /** Keep-alive bytes seen since the last message, as a CR/LF pattern ("\r\n\r" ...), up to 4. */
  private keepAlive = '';
  /** Total length of the message at the head of the buffer once its header section is known. */
  private total = 0;

  constructor(private readonly limits: FramerLimits = { maxHeaderBytes: 16_384, maxBodyBytes: 65_536 }) {}

  /** Feed bytes; returns the complete frames now available. Throws FramingError on bad input. */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    for (;;) {
      if (this.scanFrom === 0) this.skipKeepAlive(out);
      if (this.buf.length === 0) break;
      if (this.total > 0) {
        // Header section already framed; waiting for the rest of the body.
        if (!this.emitIfComplete(out)) break;
        continue;
      }
      // Resume a little before the previous end: the empty line may straddle two chunks.
      const he = findHeaderEnd(this.buf, Math.max(0, this.scanFrom - 3));
      if (!he) {
        if (this.buf.length > this.limits.maxHeaderBytes) {
          throw new FramingError(`header section longer than ${this.limits.maxHeaderBytes} bytes`);
        }
        this.scanFrom = this.buf.length;
        break;
      }
      if (he.end > this.limits.maxHeaderBytes) {
        throw new FramingError(`header section longer than ${this.limits.maxHeaderBytes} bytes`);
      }
      const len = contentLength(this.buf.toString('latin1', 0, he.end));
      if (len > this.limits.maxBodyBytes) throw new FramingError(`Content-Length ${len} exceeds ${this.limits.maxBodyBytes}`);
      this.scanFrom = he.end;
      this.total = he.end + he.sepLen + len;
      if (!this.emitIfComplete(out)) break;
    }
    return out;
  }

  private emitIfComplete(out: Frame[]): boolean {
    if (this.buf.length < this.total) return false;
    out.push({ kind: 'message', data: Buffer.from(this.buf.subarray(0, this.total)) });
    this.buf = this.buf.subarray(this.total);
    this.total = 0;
    this.scanFrom = 0;
    return true;
  }

  /** Drop CR/LF bytes before a message, reporting each CRLFCRLF ping, even one split across chunks. */
  private skipKeepAlive(out: Frame[]): void {
    let i = 0;
    for (; i < this.buf.length; i++) {
      const b = this.buf[i];
      if (b !== 13 && b !== 10) break;
      const expected = this.keepAlive.length % 2 === 0 ? 13 : 10;
      this.keepAlive = b === expected ? this.keepAlive + (b === 13 ? '\r' : '\n') : b === 13 ? '\r' : '';
      if (this.keepAlive.length === 4) {
        out.push({ kind: 'ping' });
        this.keepAlive = '';
      }
    }
    if (i > 0) this.buf = this.buf.subarray(i);
    if (this.buf.length > 0) this.keepAlive = '';
  }

  get buffered(): number {
    return this.buf.length;
  }
}

/**
 * The body length announced by a header section (`Content-Length` or compact `l`, possibly folded).
 * Missing means 0: the validator then rejects a request that evidently had a body. A malformed or
 * conflicting value makes the stream unframeable.
 */
function contentLength(head: string): number {
  const lines = head.split(/\r?\n/);
  let value: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const m = /^(content-length|l)[ \t]*:(.*)$/i.exec(lines[i]!);
    if (!m) continue;
    let v = m[2]!;
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) v += ' ' + lines[++i];
    v = v.trim();
    if (!/^\d+$/.test(v)) throw new FramingError(`invalid Content-Length '${v.slice(0, 20)}'`);
    if (value !== undefined && Number(value) !== Number(v)) throw new FramingError('conflicting Content-Length headers');
    value = v;
  }
  return value === undefined ? 0 : Number(value);
}
