/** The HTTP side: /healthz for load balancers and /metrics for Prometheus. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControl, type ControlSources } from './control.js';
import { renderMetrics, type MetricsSource } from './metrics.js';

export interface HttpSources {
  metrics(): MetricsSource;
  health(): { draining: boolean; activeCalls: number };
  control?: ControlSources;
}

const MAX_BODY = 16_384;

export class HttpApi {
  private server: http.Server;

  constructor(private readonly src: HttpSources) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (this.src.control && /^\/(calls|agents)(\/|$)/.test(path ?? '')) return void this.control(req, path!, send);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, 'application/json', JSON.stringify({ error: `method ${req.method} not allowed`, allow: ['GET', 'HEAD'] }));
    }
    if (path === '/healthz') {
      const h = this.src.health();
      // 503 while draining so a load balancer stops sending new calls here.
      return send(h.draining ? 503 : 200, 'application/json', JSON.stringify({ status: h.draining ? 'draining' : 'ok', activeCalls: h.activeCalls }));
    }
    if (path === '/metrics') return send(200, 'text/plain; version=0.0.4', renderMetrics(this.src.metrics()));
    send(404, 'application/json', JSON.stringify({ error: `no resource at ${path}`, resources: ['/healthz', '/metrics', '/calls', '/agents'] }));
  }

  private control(req: http.IncomingMessage, path: string, send: (s: number, t: string, b: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        send(413, 'application/json', JSON.stringify({ error: `body larger than ${MAX_BODY} bytes` }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      let body: unknown;
      if (chunks.length) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return send(400, 'application/json', JSON.stringify({ error: 'body is not valid JSON' }));
        }
      }
      handleControl(req.method ?? 'GET', path, body, this.src.control!).then(
        (r) => (r ? send(r.status, 'application/json', JSON.stringify(r.body)) : send(405, 'application/json', JSON.stringify({ error: `${req.method} ${path} is not supported` }))),
        (e: Error) => send(500, 'application/json', JSON.stringify({ error: e.message })),
      );
    });
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
