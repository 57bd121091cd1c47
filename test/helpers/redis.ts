/**
 * A real Redis server for the tests (Debian's redis-server), on a free loopback port with its own
 * directory, append-only file on (fsync always) so a restart keeps what was acknowledged. It can
 * be stopped and started again on the same port and files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vagw-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
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
  };
  await r.start();
  return r;
}
