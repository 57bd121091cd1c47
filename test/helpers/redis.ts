/**
 * A real Redis server for the tests (Debian's redis-server), on a free loopback port with its own
 * directory, append-only file on (fsync always) so a restart keeps what was acknowledged. It can
 * be stopped and started again on the same port and files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tcpAnswers } from './net.js';
import { freePort } from './sipp.js';

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * A client for the test: a command fails at once while the server is down (no queueing), it
   * reconnects every 50 ms, its connection errors are expected (restarts) and not reported.
   */
  connect(): Redis;
  /** The end of the test file: its clients disconnected, the server stopped. */
  close(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vagw-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];
  const r: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'], { stdio: 'ignore' });
      const until = Date.now() + 10_000;
      while (!(await tcpAnswers(port))) {
        if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`);
        if (Date.now() > until) throw new Error(`redis-server not listening on ${port} within 10 s`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill(signal);
      });
    },
    connect() {
      const c = new Redis(r.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients.splice(0)) c.disconnect();
      await r.stop();
    },
  };
  await r.start();
  return r;
}
