/**
 * A small keep-alive HTTP/1.1 JSON client for the calls bench: the simulator's admin API and the
 * gateway's /metrics, both on 127.0.0.1. node:http rather than fetch, to keep the bench process's
 * own CPU low (it shares the 2 cores with the gateway).
 */
import http from 'node:http';

export interface HttpAnswer {
  status: number;
  text: string;
}

/** A request that died on the wire (the server reset or closed the connection) and may be sent again. */
export function isReset(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || (e as Error).message === 'socket hang up';
}

export class HttpClient {
  /**
   * Idle sockets are closed after 1 s, well before the server's 5 s keep-alive timeout: a server
   * whose event loop stalls past that timeout resets a socket it has not read yet (its timers run
   * before its reads), and the request on it is lost.
   */
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1024, keepAliveMsecs: 1000, timeout: 1000 });
  /** Requests sent again after a reset (see `send`). */
  resets = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly timeoutMs = 15_000,
  ) {}

  request(method: 'GET' | 'POST', path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: { ...extraHeaders, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** `request`, sent once more if the connection was reset: only for requests that are safe to repeat. */
  async send(method: 'GET' | 'POST', path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<HttpAnswer> {
    try {
      return await this.request(method, path, body, extraHeaders);
    } catch (e) {
      if (!isReset(e)) throw e;
      this.resets++;
      return this.request(method, path, body, extraHeaders);
    }
  }

  async json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const r = await this.send(method, path, body);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path} -> ${r.status} ${r.text.slice(0, 300)}`);
    return JSON.parse(r.text) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Prometheus text -> 'name{labels}' -> value (vagw_ families only). */
export async function readMetrics(gw: HttpClient): Promise<Record<string, number>> {
  const r = await gw.send('GET', '/metrics');
  if (r.status !== 200) throw new Error(`GET /metrics -> ${r.status}`);
  const out: Record<string, number> = {};
  for (const line of r.text.split('\n')) {
    const m = /^(vagw_[^ ]+) (\S+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}
