/** The HTTP side: /healthz for load balancers and /metrics for Prometheus. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { handleClusterControl, type ClusterPeers } from './cluster-control.js';
import { handleControl, type ControlSources } from './control.js';
import { handleDemo, type DemoSources } from './demo-routes.js';
import { renderMetrics, type MetricsSource } from './metrics.js';
import { handleTwilioRest, isTwilioPath, type TwilioRestSources } from './twilio-rest.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import { guard } from '../util/faults.js';
import type { PluginHttpRoutes } from '../vendors/plugin.js';

export interface HttpSources {
  metrics(): MetricsSource;
  health(): { draining: boolean; activeCalls: number };
  control?: ControlSources;
  /** In a cluster: the other nodes, for cluster-wide /calls and /agents (src/api/cluster-control.ts). */
  cluster?: () => ClusterPeers | undefined;
  demo?: DemoSources;
  /** Histograms rendered by prom-client, appended to /metrics. */
  histograms?: () => Promise<string>;
  /** The live dashboard's data (GET /dashboard/data). */
  dashboard?: () => Promise<Record<string, unknown>>;
  /** Twilio-compatible call control for engines (POST .../Calls/{CallSid}.json Status=completed). */
  twilio?: TwilioRestSources;
  /** Contact-center platforms' endpoints (the CCaaS voice adapter), by path prefix. */
  platformRoutes?: () => PluginHttpRoutes[];
  /** WebSocket endpoints on this port by path (e.g. /sip for RFC 7118, /webrtc for attach). */
  upgrades?: Record<string, (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void>;
}

const MAX_BODY = 16_384;

export class HttpApi {
  private server: http.Server;

  constructor(private readonly src: HttpSources) {
    // The fault boundary of the HTTP side: a bug reached by one request answers that request 500
    // (or closes that upgrade), counted in vagw_internal_errors_total, and the server carries on.
    this.server = http.createServer(
      guard('http.request', (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res), {
        context: (req) => ({ method: req.method, url: req.url?.slice(0, 200) }),
        onFault: (_e, _req, res) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'internal error; it was logged' }));
        },
      }),
    );
    this.server.on(
      'upgrade',
      guard(
        'http.upgrade',
        (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
          const path = (req.url ?? '/').split('?')[0]!;
          const handler = this.src.upgrades?.[path];
          if (handler) return handler(req, socket, head);
          const reason = `No WebSocket endpoint at ${path}`;
          socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`);
        },
        { context: (req) => ({ url: req.url?.slice(0, 200) }), onFault: (_e, _req, socket) => socket.destroy() },
      ),
    );
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (this.src.control && /^\/(calls|agents)(\/|$)/.test(path ?? '')) return void this.control(req, path!, /[?&]scope=local(&|$)/.test(req.url ?? ''), send);
    if (this.src.twilio && isTwilioPath(path ?? '')) return void this.twilio(req, path!, res);
    if (handleDemo(req, res, path ?? '/', this.src.demo ?? {}, () => readJson(req))) return;
    const platform = this.src.platformRoutes?.().find((r) => path === r.prefix || path?.startsWith(`${r.prefix}/`));
    if (platform) return void this.platform(req, path!, platform, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, 'application/json', JSON.stringify({ error: `method ${req.method} not allowed`, allow: ['GET', 'HEAD'] }));
    }
    if (path === '/healthz') {
      const h = this.src.health();
      // 503 while draining so a load balancer stops sending new calls here.
      return send(h.draining ? 503 : 200, 'application/json', JSON.stringify({ status: h.draining ? 'draining' : 'ok', activeCalls: h.activeCalls }));
    }
    if (path === '/metrics') {
      const text = renderMetrics(this.src.metrics());
      if (!this.src.histograms) return send(200, 'text/plain; version=0.0.4', text);
      return void this.src.histograms().then(
        (h) => send(200, 'text/plain; version=0.0.4', text + h),
        () => send(200, 'text/plain; version=0.0.4', text),
      );
    }
    if (path === '/dashboard' || path === '/dashboard/') return send(200, 'text/html; charset=utf-8', DASHBOARD_HTML);
    if (path === '/dashboard/data' && this.src.dashboard) {
      return void this.src.dashboard().then(
        (d) => send(200, 'application/json', JSON.stringify(d)),
        (e: Error) => send(500, 'application/json', JSON.stringify({ error: `dashboard data: ${e.message}` })),
      );
    }
    send(404, 'application/json', JSON.stringify({ error: `no resource at ${path}`, resources: ['/healthz', '/metrics', '/calls', '/agents', '/dashboard'] }));
  }

  private control(req: http.IncomingMessage, path: string, localOnly: boolean, send: (s: number, t: string, b: string) => void): void {
    const who = apiCaller(req);
    const peers = localOnly ? undefined : this.src.cluster?.();
    const here = (m: string, p: string, b: unknown) => handleControl(m, p, b, this.src.control!, who);
    readJson(req).then(
      (body) =>
        (peers ? handleClusterControl(req.method ?? 'GET', path, body, here, peers, who) : here(req.method ?? 'GET', path, body)).then(
          (r) => (r ? send(r.status, 'application/json', JSON.stringify(r.body)) : send(405, 'application/json', JSON.stringify({ error: `${req.method} ${path} is not supported` }))),
          (e: Error) => send(500, 'application/json', JSON.stringify({ error: e.message })),
        ),
      (e: BodyError) => send(e.status, 'application/json', JSON.stringify({ error: e.message })),
    );
  }

  private twilio(req: http.IncomingMessage, path: string, res: http.ServerResponse): void {
    const src = this.src.twilio!;
    readBody(req).then(
      (body) => {
        const r = handleTwilioRest(req.method ?? 'GET', path, req.headers.authorization, body, src, `engine:twilio-rest ${req.socket.remoteAddress ?? ''}`.trim());
        res.writeHead(r.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...r.headers });
        res.end(JSON.stringify(r.body));
      },
      (e: BodyError) => {
        res.writeHead(e.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 20001, message: e.message, status: e.status }));
      },
    );
  }

  private platform(req: http.IncomingMessage, path: string, routes: PluginHttpRoutes, res: http.ServerResponse): void {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    readBody(req)
      .then((body) => routes.handle({ method: req.method ?? 'GET', path, headers: req.headers, body, remote: req.socket.remoteAddress ?? '' }))
      .then(
        (r) => reply(r.status, r.body, r.headers),
        (e: Error & { status?: number }) => reply(e.status ?? 500, { status: 'Failure', message: e.message }),
      );
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type BodyError = Error & { status: number };

/** The request's JSON body (undefined when empty); rejects with 413 or 400 naming the problem. */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error(`body larger than ${MAX_BODY} bytes`), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error('body is not valid JSON'), { status: 400 });
  }
}

/** The REST API's caller as call records name it: `api:<address>`, with `X-Operator` when given. */
function apiCaller(req: http.IncomingMessage): string {
  const op = req.headers['x-operator'];
  const name = typeof op === 'string' ? op.replace(/[^\w.@ -]/g, '').slice(0, 64) : '';
  return `api:${req.socket.remoteAddress ?? 'unknown'}${name ? ` (${name})` : ''}`;
}
