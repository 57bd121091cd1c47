/**
 * The gateway and the LiveVox sandbox as real processes (`vagw start`, `vagw sandbox`), the way
 * they run in production: one can be killed with SIGKILL while the other keeps its state. The
 * sandbox config is the gateway's with `livevox.baseUrl: sandbox`; the gateway reaches it as a
 * remote LiveVox.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

export interface Proc {
  child: ChildProcess;
  out: string[];
}

export interface SplitSetup {
  dir: string;
  sipPort: number;
  httpPort: number;
  simPort: number;
  rtp: [number, number];
  agents: number;
  engine: string;
  engines?: string;
  /** Extra keys of the gateway section, e.g. `overload: { ... }`. */
  gatewayExtra?: string;
}

export function configs(s: SplitSetup): { gateway: string; sandbox: string } {
  const text = (role: 'gateway' | 'sandbox'): string => `gateway:
  name: chaos-${role}
  http: { host: 127.0.0.1, port: ${role === 'gateway' ? s.httpPort : 0} }
  limits: { retryAfterSeconds: 1 }
  drainTimeoutSeconds: 1
  logLevel: ${process.env['VAGW_TEST_LOG'] ?? 'warn'}
${s.gatewayExtra ? `  ${s.gatewayExtra}\n` : ''}media: { host: 127.0.0.1, rtpPortMin: ${s.rtp[0]}, rtpPortMax: ${s.rtp[1]}, workers: 1, rtpTimeoutSeconds: 0 }
${s.engines ? `engines:\n${s.engines}\n` : ''}livevox:
  baseUrl: ${role === 'gateway' ? `http://127.0.0.1:${s.simPort}` : 'sandbox'}
  accessToken: chaos-token
  clientName: chaos
  sandboxPort: ${s.simPort}
  timeoutMs: 2000
dataDir: ${JSON.stringify(path.join(s.dir, role === 'gateway' ? 'data' : 'sandbox-data'))}
profiles:
  - name: chaos
    listen: { host: 127.0.0.1, port: ${s.sipPort}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    engine: ${s.engine}
    contactCenter:
      vendor: livevox
      serviceId: "1001"
      password: chaos
      screenPopWaitMs: 100
      termCodes: { completed: Bot Completed, callerHungUp: Caller Hung Up, transferred: Transferred, failed: AI Failure }
      wrapUp: { maxAttempts: 12, retryMs: 50 }
    agents:
      - { range: { from: "+18990000001", count: ${s.agents} }, idPrefix: ch-, idWidth: 2 }
`;
  const gateway = path.join(s.dir, 'gateway.yaml');
  const sandbox = path.join(s.dir, 'sandbox.yaml');
  writeFileSync(gateway, text('gateway'));
  writeFileSync(sandbox, text('sandbox'));
  return { gateway, sandbox };
}

export function run(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => out.push(...d.toString().split('\n').filter(Boolean)));
  return { child, out };
}

/** Resolves once `url` answers 200 (the process is up); rejects naming the process's last lines. */
export async function ready(p: Proc, url: string, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`${what} exited (${p.child.exitCode}):\n${p.out.slice(-20).join('\n')}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} did not come up within ${timeoutMs} ms:\n${p.out.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function stop(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}

/** A request to a simulator's admin API (`/__sim/...`, JSON both ways): its status and body. */
function simCall(simPort: number) {
  const base = `http://127.0.0.1:${simPort}/__sim`;
  return async <T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${base}${p}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json()) as T };
  };
}

/** The simulator's admin API. */
export function admin(simPort: number) {
  const call = simCall(simPort);
  return {
    state: async () => (await call<{ agents: { user: string; state: string }[]; calls: { transactionId: string; status: string; endedBy?: string; termCodes: { termCodeName: string }[] }[] }>('GET', '/state')).body,
    faults: (f: Record<string, unknown>) => call('POST', '/faults', f),
    startCall: (agent: string, transactionId: string) => call<{ transactionId: string }>('POST', '/calls', { agent, call: { transactionId, sessionId: `${transactionId}@10.0.0.9`, phoneNumber: '3125550123' } }),
    endCall: (transactionId: string) => call('POST', '/calls/end', { transactionId, by: 'customer' }),
  };
}

/** Polls an async condition every 100 ms; rejects naming it after `timeoutMs`. */
export async function waitUntil(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > until) throw new Error(`waitUntil: ${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface HuaweiSplitSetup {
  dir: string;
  sipPort: number;
  httpPort: number;
  simPort: number;
  /** The sandbox's SIP registrar (and call placer) port: the gateway registers the phones there. */
  registrarPort: number;
  rtp: [number, number];
  /** Agents 1001.. with softphone numbers 70001.. */
  agents: number;
}

/** The Huawei AICC sandbox and a gateway that reaches it as a remote CC-Gateway and SIP registrar. */
export function huaweiConfigs(s: HuaweiSplitSetup): { gateway: string; sandbox: string } {
  const text = (role: 'gateway' | 'sandbox'): string => `gateway:
  name: hw-${role}
  http: { host: 127.0.0.1, port: ${role === 'gateway' ? s.httpPort : 0} }
  drainTimeoutSeconds: 1
  logLevel: ${process.env['VAGW_TEST_LOG'] ?? 'warn'}
media: { host: 127.0.0.1, rtpPortMin: ${s.rtp[0]}, rtpPortMax: ${s.rtp[1]}, workers: 1, rtpTimeoutSeconds: 0 }
huaweiAicc:
  baseUrl: ${role === 'gateway' ? `http://127.0.0.1:${s.simPort}` : 'sandbox'}
  registrar: 127.0.0.1:${s.registrarPort}
  phonePassword: phone-secret
  timeoutMs: 1000
  retries: 1
  pollHoldMs: 2000
  sandboxPort: ${s.simPort}
  sandboxSipPort: ${s.registrarPort}
  sandboxSkills: [{ id: "1", name: VirtualAgents, wrapUpSeconds: 5 }]
dataDir: ${JSON.stringify(path.join(s.dir, role === 'gateway' ? 'data' : 'sandbox-data'))}
profiles:
  - name: huawei
    listen: { host: 127.0.0.1, port: ${s.sipPort}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    engine: builtin:echo
    contactCenter:
      vendor: huawei-aicc
      serviceId: "1"
      password: hw-password
      wrapUp: { maxAttempts: 6, retryMs: 100 }
    agents:
      - { range: { from: "70001", count: ${s.agents} }, idPrefix: hw-, idWidth: 2, vendorUser: "10" }
`;
  const gateway = path.join(s.dir, 'gateway.yaml');
  const sandbox = path.join(s.dir, 'sandbox.yaml');
  writeFileSync(gateway, text('gateway'));
  writeFileSync(sandbox, text('sandbox'));
  return { gateway, sandbox };
}

export interface HuaweiSimCall {
  callid: string;
  agentId: string;
  state: string;
  releasedBy?: string;
  workRequests: number;
  idleAt?: number;
}

/** The Huawei simulator's admin API. */
export function huaweiAdmin(simPort: number) {
  const call = simCall(simPort);
  return {
    state: async () => (await call<{ agents: { agentId: string; status: string }[]; phones: { number: string }[]; calls: HuaweiSimCall[] }>('GET', '/state')).body,
    faults: (f: Record<string, unknown>) => call<Record<string, unknown>>('POST', '/faults', f),
    route: (agent: string) => call<HuaweiSimCall & { error?: string }>('POST', '/calls', { agent }),
    hangup: (callid: string) => call<HuaweiSimCall>('POST', `/calls/${callid}/hangup`, {}),
  };
}
