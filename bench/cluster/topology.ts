/**
 * The cluster bench's topology as processes on this machine: the LiveVox sandbox (its own process;
 * its placer plays the carrier), and either one gateway node it calls directly (no Redis, no
 * Kamailio: the reference), or Redis (AOF, fsync always), Kamailio (deploy/kamailio/kamailio.cfg)
 * and N gateway nodes sharing the agents, the placer calling Kamailio.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKamailio, type TestKamailio } from '../../test/helpers/kamailio.js';
import { startRedis, type TestRedis } from '../../test/helpers/redis.js';
import { freePort } from '../../test/helpers/sipp.js';
import { startGateway, startSandboxProcess, stopChild, type Gateway } from '../media/procs.js';

export const AGENTS = 60;
export const agentIds = Array.from({ length: AGENTS }, (_, i) => `va-${String(i + 1).padStart(3, '0')}`);

export interface Topology {
  label: string;
  nodes: number;
  simPort: number;
  httpPorts: number[];
  /** The node processes (undefined while killed). */
  procs: (Gateway | undefined)[];
  /** Nodes killed earlier (their output, for failure reports). */
  dead: Gateway[];
  /** The last log lines (warn and up) of each node process started, killed ones included. */
  logs: Map<Gateway, string[]>;
  kamailio?: TestKamailio;
  start(i: number): Promise<void>;
  kill(i: number): Promise<void>;
  close(): Promise<void>;
}

function profile(port: number): string {
  return `profiles:
  - name: bench
    listen: { host: 127.0.0.1, port: ${port}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    edge: { perSourceRequestsPerSecond: 0 }
    engine: builtin:echo
    contactCenter: { vendor: livevox, serviceId: "1001", password: bench, screenPopWaitMs: 200, wrapUp: { maxAttempts: 8, retryMs: 50 } }
    agents:
      - { range: { from: "+18990000001", count: ${AGENTS} }, idPrefix: va-, idWidth: 3 }
`;
}

/** `nodes: 0`: one node without Redis or Kamailio, called directly (the reference). */
export async function startTopology(root: string, nodes: number, leaseTtlMs: number): Promise<Topology> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-cluster-'));
  const clustered = nodes > 0;
  const n = Math.max(1, nodes);
  const simPort = await freePort();
  const kamPort = await freePort();
  const sip: number[] = [];
  const httpPorts: number[] = [];
  for (let i = 0; i < n; i++) {
    sip.push(await freePort());
    httpPorts.push(await freePort());
  }
  let redis: TestRedis | undefined;
  let sandbox: Gateway | undefined;
  const t: Topology = {
    label: clustered ? `${nodes} node${nodes > 1 ? 's' : ''} behind Kamailio` : '1 node, no Kamailio/Redis',
    nodes: n,
    simPort,
    httpPorts,
    procs: [],
    dead: [],
    logs: new Map(),
    async start(i) {
      const file = join(dir, `node-${i}.yaml`);
      await writeFile(
        file,
        `gateway: { name: node-${i}, http: { host: 127.0.0.1, port: ${httpPorts[i]} }, limits: { maxCalls: 100000, maxCallsPerSecond: 100000, retryAfterSeconds: 1 }, drainTimeoutSeconds: 2, logLevel: ${process.env['BENCH_CLUSTER_LOG'] ?? 'warn'} }
media: { host: 127.0.0.1, rtpPortMin: ${20000 + i * 2000}, rtpPortMax: ${21999 + i * 2000}, workers: 0, rtpTimeoutSeconds: 0 }
livevox: { baseUrl: "http://127.0.0.1:${simPort}", accessToken: bench, clientName: bench, timeoutMs: 3000 }
${clustered ? `cluster: { redis: "${redis!.url}", name: bench, nodeId: node-${i}, sipAddress: "127.0.0.1:${sip[i]}", leaseTtlMs: ${leaseTtlMs} }\n` : ''}dataDir: ${JSON.stringify(join(dir, `data-${i}`))}
${profile(sip[i]!)}`,
      );
      const g = await startGateway(root, file, httpPorts[i]!, false);
      const lines: string[] = [];
      let partial = '';
      g.child.stdout?.on('data', (d: Buffer) => {
        const parts = (partial + d.toString()).split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts);
        if (lines.length > 4000) lines.splice(0, lines.length - 4000);
      });
      t.logs.set(g, lines);
      t.procs[i] = g;
    },
    async kill(i) {
      const p = t.procs[i];
      t.procs[i] = undefined;
      if (p) t.dead.push(p);
      if (!p || p.child.exitCode !== null) return;
      const exited = new Promise((r) => p.child.once('exit', r));
      p.child.kill('SIGKILL');
      await exited;
    },
    async close() {
      for (const p of t.procs) await stopChild(p?.child, 5000);
      t.kamailio?.stop();
      await stopChild(sandbox?.child, 5000);
      await redis?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    if (clustered) redis = await startRedis();
    const sandboxFile = join(dir, 'sandbox.yaml');
    await writeFile(
      sandboxFile,
      `gateway: { name: bench-sandbox, http: { host: 127.0.0.1, port: 0 }, logLevel: warn }
media: { host: 127.0.0.1, rtpPortMin: 30000, rtpPortMax: 31999 }
livevox: { baseUrl: sandbox, accessToken: bench, clientName: bench, sandboxPort: ${simPort} }
dataDir: ${JSON.stringify(join(dir, 'sandbox-data'))}
${profile(clustered ? kamPort : sip[0]!)}`,
    );
    sandbox = await startSandboxProcess(root, sandboxFile, simPort);
    if (clustered) t.kamailio = await startKamailio({ port: kamPort, redisPort: redis!.port, cluster: 'bench', nodes: sip, dir });
    for (let i = 0; i < n; i++) await t.start(i);
  } catch (e) {
    await t.close();
    throw e;
  }
  return t;
}
