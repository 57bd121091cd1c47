/** The HTTP side: /healthz for load balancers and /metrics for Prometheus. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderMetrics, type MetricsSource } from './metrics.js';

export interface HttpSources {
  metrics(): MetricsSource;
  health(): { draining: boolean; activeCalls: number };
}

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
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, 'application/json', JSON.stringify({ error: `method ${req.method} not allowed`, allow: ['GET', 'HEAD'] }));
    }
    if (path === '/healthz') {
      const h = this.src.health();
      // 503 while draining so a load balancer stops sending new calls here.
      return send(h.draining ? 503 : 200, 'application/json', JSON.stringify({ status: h.draining ? 'draining' : 'ok', activeCalls: h.activeCalls }));
    }
    if (path === '/metrics') return send(200, 'text/plain; version=0.0.4', renderMetrics(this.src.metrics()));
    send(404, 'application/json', JSON.stringify({ error: `no resource at ${path}`, resources: ['/healthz', '/metrics'] }));
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
