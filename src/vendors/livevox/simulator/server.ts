/**
 * The simulator's HTTP server (node:http, loopback only): the LiveVox API with injected faults,
 * and the unauthenticated admin API under /__sim/ (never faulted).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { LvCode } from '../wire.js';
import { adminHandle, type AdminContext } from './admin.js';
import type { FaultInjector } from './faults.js';
import { SimError } from './records.js';
import { canonicalPath, handle, type ApiResponse } from './routes.js';
import type { SimState } from './state.js';
import { parseJson } from './validate.js';
import { faults } from '../../../util/faults.js';

const MAX_BODY = 1 << 20;

export interface SimServerOptions {
  host: string;
  port: number;
  state: SimState;
  faults: FaultInjector;
  logger: Logger;
  admin: AdminContext;
}

export interface SimServer {
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, r: ApiResponse | { status: number; body?: unknown }): void {
  if (res.destroyed) return;
  if (r.body === undefined) {
    res.writeHead(r.status).end();
    return;
  }
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new SimError(413, LvCode.malformedBody, 'body larger than 1 MiB'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function startServer(o: SimServerOptions): Promise<SimServer> {
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    if (url.pathname.startsWith('/__sim/')) {
      send(res, adminHandle(o.admin, method, url.pathname, () => parseJson(text), url.searchParams));
      return;
    }
    const path = canonicalPath(url.pathname);
    const fault = o.faults.decide(path);
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault.outcome !== 'pass') {
      o.state.countRequest(`FAULT ${fault.outcome} ${method} ${path}`);
      o.logger.debug({ method, path, fault: fault.outcome }, 'livevox sim: injected fault');
      if (fault.outcome === 'drop') req.socket.destroy();
      else send(res, { status: 503, body: { code: LvCode.injectedFault, message: 'injected fault' } });
      return;
    }
    let body: unknown;
    try {
      body = parseJson(text);
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      send(res, { status: err.status, body: { code: err.code, message: err.message } });
      return;
    }
    const header = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const r = handle(o.state, { method, path: url.pathname, query: url.searchParams, header, body });
    send(res, r);
    o.logger.debug({ method, path, status: r.status, ms: Date.now() - started }, 'livevox sim: request');
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      if (err instanceof SimError) return send(res, { status: err.status, body: { code: err.code, message: err.message } });
      faults.record('sandbox.livevox.http', err, { url: req.url?.slice(0, 200) }, o.logger);
      send(res, { status: 500, body: { code: 500, message: 'simulator error' } });
    });
  });
  server.keepAliveTimeout = 5_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
