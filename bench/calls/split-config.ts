/**
 * The two configurations of a bench that runs the LiveVox sandbox in a process of its own: the
 * gateway's (`livevox.baseUrl` = the simulator's URL) and the sandbox's (`vagw sandbox`, the same
 * agents and service, `baseUrl: sandbox`, the simulator on `simPort`). builtin:echo engine, UDP
 * on loopback, service 1001. Written into `dir` as gateway.yaml and sandbox.yaml; SplitProcesses
 * runs the two.
 */
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGateway, startSandboxProcess, stopChild, type Gateway } from '../media/procs.js';
import { HttpClient } from './http.js';

export interface SplitConfig {
  dir: string;
  name: string;
  sipPort: number;
  httpPort: number;
  simPort: number;
  lv: { accessToken: string; clientName: string; password: string };
  agents: { count: number; idPrefix: string };
  rtp: { min: number; max: number; timeoutSeconds: number };
  /** Extra lines of the `gateway:` section (indented two spaces). */
  gatewayLines?: string[];
  /** Extra lines of the profile's `contactCenter:` section (indented six spaces). */
  contactCenterLines?: string[];
  /** Call records the sandbox keeps (livevox.sandboxKeepCalls); default the simulator's. */
  sandboxKeepCalls?: number;
}

function text(o: SplitConfig, role: 'gateway' | 'sandbox'): string {
  return `gateway:
  name: ${o.name}
  http: { host: 127.0.0.1, port: ${role === 'gateway' ? o.httpPort : 0} }
${(o.gatewayLines ?? []).map((l) => `${l}\n`).join('')}  logLevel: warn
media: { host: 127.0.0.1, rtpPortMin: ${o.rtp.min}, rtpPortMax: ${o.rtp.max}, workers: 0, rtpTimeoutSeconds: ${o.rtp.timeoutSeconds} }
livevox:
  baseUrl: ${role === 'gateway' ? `http://127.0.0.1:${o.simPort}` : 'sandbox'}
  accessToken: ${o.lv.accessToken}
  clientName: ${o.lv.clientName}
  sandboxPort: ${o.simPort}
${o.sandboxKeepCalls ? `  sandboxKeepCalls: ${o.sandboxKeepCalls}\n` : ''}dataDir: ${JSON.stringify(join(o.dir, role === 'gateway' ? 'data' : 'sandbox-data'))}
profiles:
  - name: ${o.name}
    listen: { host: 127.0.0.1, port: ${o.sipPort}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    # The load generator is one trusted address whose job is to find capacity: no per-source cap.
    edge: { perSourceRequestsPerSecond: 0 }
    engine: builtin:echo
    contactCenter:
      vendor: livevox
      serviceId: "1001"
      password: ${o.lv.password}
      screenPopWaitMs: 200
${(o.contactCenterLines ?? []).map((l) => `${l}\n`).join('')}    agents:
      - { range: { from: "+18990000001", count: ${o.agents.count} }, idPrefix: ${o.agents.idPrefix}, idWidth: 3 }
`;
}

/** Writes both files; returns their paths. */
export async function writeSplitConfigs(o: SplitConfig): Promise<{ gateway: string; sandbox: string }> {
  const files = { gateway: join(o.dir, 'gateway.yaml'), sandbox: join(o.dir, 'sandbox.yaml') };
  await writeFile(files.gateway, text(o, 'gateway'));
  await writeFile(files.sandbox, text(o, 'sandbox'));
  return files;
}

/**
 * The two processes of a split bench and the HTTP clients to them, with one stop for all of them
 * and the bench's directory (safe at any point: before, during or after the start).
 */
export class SplitProcesses {
  gateway?: Gateway;
  sandbox?: Gateway;
  private readonly clients: HttpClient[] = [];

  constructor(private readonly dir: string) {}

  /** The sandbox first (the gateway logs its agents in there), then the gateway from `gatewayRoot`'s build. */
  async start(o: { root: string; gatewayRoot: string; files: { gateway: string; sandbox: string }; httpPort: number; simPort: number }): Promise<{ gateway: Gateway; sandbox: Gateway; gw: HttpClient; sim: HttpClient }> {
    const sandbox = (this.sandbox = await startSandboxProcess(o.root, o.files.sandbox, o.simPort));
    const gateway = (this.gateway = await startGateway(o.gatewayRoot, o.files.gateway, o.httpPort, false));
    pinIfAsked(gateway, sandbox);
    const gw = new HttpClient('127.0.0.1', o.httpPort);
    const sim = new HttpClient('127.0.0.1', o.simPort);
    this.clients.push(gw, sim);
    return { gateway, sandbox, gw, sim };
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await stopChild(this.gateway?.child, 7000);
    await stopChild(this.sandbox?.child, 5000);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * BENCH_CALLS_PIN=1 (Linux, taskset): the gateway on CPU 0 alone, the sandbox and this driver on
 * CPU 1, every thread of each. The gateway then has one core to itself at every step, so a fall of
 * goodput past saturation is the gateway's and not the load generator taking its CPU.
 */
function pinIfAsked(gateway: Gateway, sandbox: Gateway): void {
  if (process.env['BENCH_CALLS_PIN'] !== '1') return;
  const pin = (cpu: string, pid: number | undefined): void => {
    if (pid !== undefined) execFileSync('taskset', ['-a', '-cp', cpu, String(pid)], { stdio: 'ignore' });
  };
  pin('0', gateway.child.pid);
  pin('1', sandbox.child.pid);
  pin('1', process.pid);
  console.log('pinned: gateway on CPU 0; sandbox and driver on CPU 1');
}
