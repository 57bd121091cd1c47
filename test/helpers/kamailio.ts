/**
 * Kamailio (Debian's package) with the shipped deploy/kamailio/kamailio.cfg in front of gateway
 * nodes, for the cluster tests: listening on a loopback UDP port, its Redis and dispatcher list
 * given as defines, its log lines kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitUntil } from './processes.js';
import { listening } from './sipp.js';

const UP = path.resolve(import.meta.dirname, '..', '..');
// The repository root, from test/helpers or from its build in dist/test/helpers (the benches).
const ROOT = path.basename(UP) === 'dist' ? path.dirname(UP) : UP;

export interface TestKamailio {
  readonly out: string[];
  stop(): void;
}

export async function startKamailio(o: { port: number; redisPort: number; cluster: string; nodes: number[]; dir: string }): Promise<TestKamailio> {
  const list = path.join(o.dir, 'nodes.list');
  writeFileSync(list, o.nodes.map((p) => `1 sip:127.0.0.1:${p}`).join('\n') + '\n');
  const child: ChildProcess = spawn('kamailio', [
    '-DD', '-E', '-f', path.join(ROOT, 'deploy', 'kamailio', 'kamailio.cfg'), '-l', `udp:127.0.0.1:${o.port}`,
    '-A', `REDIS_SERVER="name=vagw;addr=127.0.0.1;port=${o.redisPort}"`, '-A', `CLUSTER="${o.cluster}"`, '-A', `DISPATCHER_LIST="${list}"`, '-A', 'PROBE_SECONDS=1',
    '-w', o.dir, '-P', path.join(o.dir, 'kamailio.pid'),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => out.push(...d.toString().split('\n').filter(Boolean).slice(-20)));
  await waitUntil(async () => listening(o.port, 'udp'), 10_000, 'kamailio listening').catch((e: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n${out.slice(-20).join('\n')}`);
  });
  return { out, stop: () => void child.kill('SIGTERM') };
}
