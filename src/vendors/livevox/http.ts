/**
 * One LiveVox HTTP exchange with a per-attempt timeout and retries (exponential backoff with
 * jitter) for network errors, timeouts, 429 and 5xx; a 4xx other than 429 fails at once.
 * Logs carry the operation, method, path, status and timing: never a header value or a body.
 */
import type { Logger } from 'pino';
import { VendorError } from '../types.js';
import type { ErrorBody } from './wire.js';

/** A failed LiveVox call; `code` (VendorError) is the vendor code when the body had one, else the HTTP status. */
export class LiveVoxApiError extends VendorError {
  constructor(
    message: string,
    operation: string,
    retryable: boolean,
    readonly method: string,
    readonly path: string,
    /** HTTP status; undefined for a network error or a timeout. */
    readonly status?: number,
    /** The `code` of the error body, when there was one. */
    readonly vendorCode?: number,
    /** The `message` of the error body, when there was one. */
    readonly vendorMessage?: string,
  ) {
    super(message, operation, retryable, vendorCode ?? status);
  }
}

export interface HttpOptions {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  logger: Logger;
  fetch: typeof fetch;
  /** Uniform [0, 1) for the jitter. */
  random: () => number;
}

export interface Exchange {
  /** For messages and logs, e.g. 'setTermCode'. */
  op: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers: Record<string, string>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function errorBody(text: string): Partial<ErrorBody> {
  try {
    const o = JSON.parse(text) as unknown;
    if (typeof o !== 'object' || o === null) return {};
    const { code, message } = o as Record<string, unknown>;
    return { ...(typeof code === 'number' ? { code } : {}), ...(typeof message === 'string' ? { message } : {}) };
  } catch {
    return {};
  }
}

export class LiveVoxHttp {
  constructor(private readonly o: HttpOptions) {}

  url(path: string, query?: Record<string, string | undefined>): string {
    const u = new URL(this.o.baseUrl.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, v);
    return u.toString();
  }

  /** Resolves with the parsed JSON body (undefined for an empty one) or throws LiveVoxApiError. */
  async send(x: Exchange): Promise<unknown> {
    const attempts = this.o.retries + 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(x, attempt);
      } catch (err) {
        if (!(err instanceof LiveVoxApiError) || !err.retryable || attempt >= attempts) {
          if (err instanceof LiveVoxApiError && err.retryable && attempts > 1) {
            throw new LiveVoxApiError(`${err.message} (after ${attempts} attempts)`, err.operation, true, err.method, err.path, err.status, err.vendorCode, err.vendorMessage);
          }
          throw err;
        }
        const delay = this.o.backoffMs * 2 ** (attempt - 1) * (0.5 + this.o.random() / 2);
        this.o.logger.warn({ op: x.op, method: x.method, path: x.path, attempt, retryInMs: Math.round(delay), why: err.message }, 'livevox: retrying');
        await sleep(delay);
      }
    }
  }

  private async once(x: Exchange, attempt: number): Promise<unknown> {
    const started = Date.now();
    const what = `livevox ${x.op} failed: ${x.method} ${x.path}`;
    const fail = (why: string, retryable: boolean, status?: number, b: Partial<ErrorBody> = {}): LiveVoxApiError =>
      new LiveVoxApiError(`${what} -> ${why}`, `livevox ${x.op}`, retryable, x.method, x.path, status, b.code, b.message);
    let res: Response;
    let text: string;
    try {
      const headers: Record<string, string> = { accept: 'application/json', ...x.headers };
      if (x.body !== undefined) headers['content-type'] = 'application/json';
      res = await this.o.fetch(this.url(x.path, x.query), {
        method: x.method,
        headers,
        ...(x.body !== undefined ? { body: JSON.stringify(x.body) } : {}),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const timeout = e.name === 'TimeoutError' || e.name === 'AbortError';
      const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
      this.o.logger.debug({ op: x.op, method: x.method, path: x.path, attempt, ms: Date.now() - started, error: timeout ? 'timeout' : e.message }, 'livevox: no answer');
      throw fail(timeout ? `timeout after ${this.o.timeoutMs} ms` : `network error: ${e.message}${cause}`, true);
    }
    this.o.logger.debug({ op: x.op, method: x.method, path: x.path, attempt, status: res.status, ms: Date.now() - started }, 'livevox: answer');
    if (res.ok) {
      if (text.trim() === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw fail(`${res.status} with a body that is not JSON`, false, res.status);
      }
    }
    const b = errorBody(text);
    const detail = `${res.status} ${b.message ?? (res.statusText || 'error')}${b.code !== undefined ? ` (code ${b.code})` : ''}`;
    throw fail(detail, res.status >= 500 || res.status === 429, res.status, b);
  }
}
