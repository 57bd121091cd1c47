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

const CL_RE = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly limits: FramerLimits = { maxHeaderBytes: 16_384, maxBodyBytes: 65_536 }) {}

  /** Feed bytes; returns the complete frames now available. Throws FramingError on bad input. */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    for (;;) {
      let i = 0;
      while (i < this.buf.length && (this.buf[i] === 13 || this.buf[i] === 10)) i++;
      if (i > 0) {
        if (i >= 4 && this.buf[0] === 13 && this.buf[1] === 10 && this.buf[2] === 13 && this.buf[3] === 10) {
          out.push({ kind: 'ping' });
        }
        this.buf = this.buf.subarray(i);
      }
      if (this.buf.length === 0) break;
      const he = findHeaderEnd(this.buf);
      if (!he) {
        if (this.buf.length > this.limits.maxHeaderBytes) {
          throw new FramingError(`header section longer than ${this.limits.maxHeaderBytes} bytes`);
        }
        break;
      }
      if (he.end > this.limits.maxHeaderBytes) {
        throw new FramingError(`header section longer than ${this.limits.maxHeaderBytes} bytes`);
      }
      const head = this.buf.toString('latin1', 0, he.end);
      const m = CL_RE.exec(head);
      // A missing Content-Length on a stream is treated as an empty body; the validator then
      // rejects a request that evidently had one.
      const len = m ? Number(m[1]) : 0;
      if (len > this.limits.maxBodyBytes) throw new FramingError(`Content-Length ${len} exceeds ${this.limits.maxBodyBytes}`);
      const total = he.end + he.sepLen + len;
      if (this.buf.length < total) break;
      out.push({ kind: 'message', data: Buffer.from(this.buf.subarray(0, total)) });
      this.buf = this.buf.subarray(total);
    }
    return out;
  }

  get buffered(): number {
    return this.buf.length;
  }
}
