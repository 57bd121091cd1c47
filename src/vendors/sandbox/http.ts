/**
 * The HTTP server every platform simulator runs on: bodies read up to 64 KiB (over that, 413 at
 * once and the rest dropped), one handler per request with its body text, a request whose handler
 * throws answered 500 and logged (the simulator goes on), under the process fault boundary.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { guard } from '../../util/faults.js';

const MAX_BODY = 64 * 1024;

export interface SimHttp {
  readonly server: http.Server;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startSimHttp(o: {
  /** For the fault boundary and the log: 'ccaas', 'huawei-aicc', ... */
  name: string;
  port?: number;
  log: Logger;
  /** Answer `status` with this JSON (the platform's own error shape). */
  answer(res: http.ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void;
  tooLarge: unknown;
  failed: unknown;
  handle(req: http.IncomingMessage, res: http.ServerResponse, text: string): Promise<void>;
}): Promise<SimHttp> {
  const server = http.createServer(guard(`sandbox.${o.name}.http`, (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) o.answer(res, 413, o.tooLarge, { connection: 'close' });
      else chunks.push(c);
    });
    req.on('end', () => void (size > MAX_BODY ? Promise.resolve() : o.handle(req, res, Buffer.concat(chunks).toString('utf8'))).catch((e: Error) => {
      o.log.error({ err: e.message }, `${o.name} sim: request failed`);
      o.answer(res, 500, o.failed);
    }));
  }, { log: o.log }));
  // A port in use fails the start with the reason (not an uncaught error and a start that never ends).
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
