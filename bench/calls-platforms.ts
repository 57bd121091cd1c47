// The contact-center platforms side by side: the same calls, the same driver, one run, one machine.
//
//   npm run bench:calls:platforms      (builds, then runs dist/bench/calls-platforms.js)
//
// For each platform with a sandbox (LiveVox, the agent session protocol, Huawei AICC) a gateway runs as its own
// process (`vagw start`, builtin:echo, log level warn) with that platform's strict simulator and the
// shared call placer in-process. This process keeps BUSY agents busy through the simulator's admin
// API: route a customer to the agent as soon as the platform has it ready (a 409 "not ready" is
// "not yet", asked again 10 ms later), let it talk TALK_MS, the customer hangs up, repeat. After
// WINDOW_MS it stops, waits for every agent to be ready again (bounded), and reads the simulator's
// records: calls whose wrap-up finished (LiveVox: exactly one term code; agent session: exactly one
// after-call work, then ready; Huawei: exactly one `work`, then idle), hang-up -> disposition latency on the simulator's clock, and agents
// not ready at the end. The figures are for the whole pipeline (gateway + simulator + placer share
// one process), compared between platforms, not an absolute rate (machines here differ by 2x).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/sipp.js';
import { HttpClient } from './calls/http.js';
import { guardRun, runMain, startGateway, stopChild, type Gateway } from './media/procs.js';
import { writeResults } from './results.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AGENTS = 100;
const BUSY = Number(process.env['BENCH_PLATFORMS_BUSY'] ?? 100);
const TALK_MS = 400;
const WINDOW_MS = 20_000;
const SETTLE_MS = 15_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Platform {
  name: string;
  /** gateway.yaml lines of the platform's section and the profile's contactCenter. */
  section(simPort: number): string;
  contactCenter: string;
  /** The profile's agents line (default: +18990000001.. with ids va-NNN). */
  agents?: string;
  route(sim: HttpClient, agent: string, seq: number): Promise<{ ok: true; id: string } | { ok: false; status: number; text: string }>;
  end(sim: HttpClient, id: string): Promise<number>;
  /** Agents the platform has ready, from GET /__sim/state. */
  ready(state: unknown): number;
  /** From GET /__sim/state: per call (ended in the window) the dispositions and hang-up -> disposition, and the agents not ready. */
  read(state: unknown, from: number, to: number): { done: number; exactlyOne: number; none: number; several: number; latencies: number[]; notReady: string[] };
}

type Lv = { agents: { user: string; state: string }[]; calls: { startedAt: number; endedAt?: number; termCodes: { at: number }[] }[] };
type Hw = { agents: { agentId: string; status: string }[]; calls: { startedAt: number; releasedAt?: number; workRequests: number; workAt?: number; idleAt?: number }[] };
type As = { sessions: { agent: string; channel?: { status: string } }[]; calls: { startedAt: number; endedAt?: number; acw: { at: number }[]; readyAt?: number }[] };

const PLATFORMS: Platform[] = [
  {
    name: 'livevox',
    section: (p) => `livevox: { baseUrl: sandbox, accessToken: bench, clientName: bench, sandboxPort: ${p} }`,
    contactCenter: '{ vendor: livevox, serviceId: "1001", password: bench, screenPopWaitMs: 200, wrapUp: { maxAttempts: 8, retryMs: 50 } }',
    route: async (sim, agent, seq) => {
      const r = await sim.request('POST', '/__sim/calls', { agent, call: { transactionId: `pb-${seq}` } });
      return r.status === 201 ? { ok: true, id: `pb-${seq}` } : { ok: false, status: r.status, text: r.text };
    },
    end: async (sim, id) => (await sim.request('POST', '/__sim/calls/end', { transactionId: id, by: 'customer' })).status,
    ready: (raw) => (raw as Lv).agents.filter((a) => a.state === 'READY').length,
    read: (raw, from, to) => {
      const s = raw as Lv;
      const mine = s.calls.filter((c) => c.endedAt !== undefined && c.startedAt >= from && c.endedAt <= to);
      return {
        done: mine.filter((c) => c.termCodes.length === 1).length,
        exactlyOne: mine.filter((c) => c.termCodes.length === 1).length,
        none: mine.filter((c) => c.termCodes.length === 0).length,
        several: mine.filter((c) => c.termCodes.length > 1).length,
        latencies: mine.filter((c) => c.termCodes.length > 0).map((c) => c.termCodes[0]!.at - c.endedAt!),
        notReady: s.agents.filter((a) => a.state !== 'READY').map((a) => `${a.user} ${a.state}`),
      };
    },
  },
  {
    name: 'agent-session',
    section: (p) => `agentSession: { url: sandbox, sandboxPort: ${p} }`,
    contactCenter: '{ vendor: agent-session, serviceId: voice-ai, password: bench, wrapUp: { maxAttempts: 8, retryMs: 50 } }',
    route: async (sim, agent) => {
      const r = await sim.request('POST', '/__sim/calls', { agent });
      return r.status === 201 ? { ok: true, id: (JSON.parse(r.text) as { contactId: string }).contactId } : { ok: false, status: r.status, text: r.text };
    },
    end: async (sim, id) => (await sim.request('POST', '/__sim/calls/end', { contactId: id, by: 'customer' })).status,
    ready: (raw) => (raw as As).sessions.filter((x) => x.channel?.status === 'ready').length,
    read: (raw, from, to) => {
      const s = raw as As;
      const mine = s.calls.filter((c) => c.endedAt !== undefined && c.startedAt >= from && c.endedAt <= to);
      return {
        done: mine.filter((c) => c.acw.length === 1 && c.readyAt !== undefined).length,
        exactlyOne: mine.filter((c) => c.acw.length === 1).length,
        none: mine.filter((c) => c.acw.length === 0).length,
        several: mine.filter((c) => c.acw.length > 1).length,
        latencies: mine.filter((c) => c.acw.length > 0).map((c) => c.acw[0]!.at - c.endedAt!),
        notReady: s.sessions.filter((x) => x.channel?.status !== 'ready').map((x) => `${x.agent} ${x.channel?.status ?? 'no channel'}`),
      };
    },
  },
  {
    // Agents va-001.. are workNo 1001.. with softphone numbers 70001..; each phone registers with the simulator.
    name: 'huawei-aicc',
    section: (p) => `huaweiAicc: { baseUrl: sandbox, sandboxPort: ${p} }`,
    contactCenter: '{ vendor: huawei-aicc, serviceId: "1", password: bench, wrapUp: { maxAttempts: 8, retryMs: 50 } }',
    agents: `{ range: { from: "70001", count: ${AGENTS} }, idPrefix: va-, idWidth: 3, vendorUser: "1" }`,
    route: async (sim, agent) => {
      const r = await sim.request('POST', '/__sim/calls', { agent: agent.replace('va-', '1') });
      return r.status === 200 ? { ok: true, id: (JSON.parse(r.text) as { callid: string }).callid } : { ok: false, status: r.status, text: r.text };
    },
    end: async (sim, id) => (await sim.request('POST', `/__sim/calls/${id}/hangup`)).status,
    ready: (raw) => (raw as Hw).agents.filter((a) => a.status === 'idle').length,
    read: (raw, from, to) => {
      const s = raw as Hw;
      const mine = s.calls.filter((c) => c.releasedAt !== undefined && c.startedAt >= from && c.releasedAt <= to);
      return {
        done: mine.filter((c) => c.workRequests === 1 && c.idleAt !== undefined).length,
        exactlyOne: mine.filter((c) => c.workRequests === 1).length,
        none: mine.filter((c) => c.workRequests === 0).length,
        several: mine.filter((c) => c.workRequests > 1).length,
        latencies: mine.filter((c) => c.workAt !== undefined).map((c) => c.workAt! - c.releasedAt!),
        notReady: s.agents.filter((a) => a.status !== 'idle').map((a) => `${a.agentId} ${a.status}`),
      };
    },
  },
];

function config(p: Platform, sipPort: number, httpPort: number, simPort: number, dataDir: string): string {
  return `gateway: { name: bench-${p.name}, http: { host: 127.0.0.1, port: ${httpPort} }, limits: { maxCalls: 100000, maxCallsPerSecond: 100000, retryAfterSeconds: 1 }, drainTimeoutSeconds: 2, logLevel: warn }
media: { host: 127.0.0.1, rtpPortMin: 20000, rtpPortMax: 29999, workers: 0, rtpTimeoutSeconds: 0 }
${p.section(simPort)}
dataDir: ${JSON.stringify(dataDir)}
profiles:
  - name: bench
    listen: { host: 127.0.0.1, port: ${sipPort}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    edge: { perSourceRequestsPerSecond: 0 }
    engine: builtin:echo
    contactCenter: ${p.contactCenter}
    agents:
      - ${p.agents ?? `{ range: { from: "+18990000001", count: ${AGENTS} }, idPrefix: va-, idWidth: 3 }`}
`;
}

const pct = (xs: number[], q: number): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function runPlatform(p: Platform, dir: string): Promise<Record<string, unknown>> {
  const [sipPort, httpPort, simPort] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, `${p.name}.yaml`);
  await writeFile(file, config(p, sipPort, httpPort, simPort, join(dir, `data-${p.name}`)));
  let gw: Gateway | undefined;
  const sim = new HttpClient('127.0.0.1', simPort);
  try {
    gw = await startGateway(ROOT, file, httpPort, false);
    const agents = Array.from({ length: AGENTS }, (_, i) => `va-${String(i + 1).padStart(3, '0')}`);
    const readyCount = async (): Promise<number> => p.ready(JSON.parse((await sim.request('GET', '/__sim/state')).text));
    for (const t0 = Date.now(); (await readyCount()) < AGENTS; ) {
      if (Date.now() - t0 > 30_000) throw new Error(`${p.name}: agents not ready within 30 s`);
      await sleep(200);
    }
    let stop = false;
    let seq = 0;
    let probes = 0;
    let errors = 0;
    const from = Date.now();
    const loop = async (agent: string): Promise<void> => {
      while (!stop) {
        const r = await p.route(sim, agent, ++seq).catch(() => ({ ok: false as const, status: 0, text: 'transport' }));
        if (!r.ok) {
          if (r.status === 409) probes++;
          else errors++;
          await sleep(10);
          continue;
        }
        await sleep(TALK_MS);
        if ((await p.end(sim, r.id).catch(() => 0)) !== 200) errors++;
      }
    };
    const loops = agents.slice(0, BUSY).map((a) => loop(a));
    await sleep(WINDOW_MS);
    stop = true;
    await Promise.all(loops);
    const to = Date.now();
    for (const t0 = Date.now(); Date.now() - t0 < SETTLE_MS && (await readyCount()) < AGENTS; ) await sleep(200);
    const r = p.read(JSON.parse((await sim.request('GET', '/__sim/state')).text), from, to);
    const out = { platform: p.name, busy: BUSY, windowS: (to - from) / 1000, callsPerSecond: Math.round((r.done / ((to - from) / 1000)) * 10) / 10, ...r, latencyP50: pct(r.latencies, 0.5), latencyP99: pct(r.latencies, 0.99), probes, errors };
    delete (out as { latencies?: unknown }).latencies;
    return out;
  } finally {
    sim.close();
    await stopChild(gw?.child, 7000);
  }
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-platforms-'));
  guardRun('bench:calls:platforms', 9 * 60_000, async () => rm(dir, { recursive: true, force: true }));
  const results: Record<string, unknown>[] = [];
  try {
    for (const p of PLATFORMS) {
      const r = await runPlatform(p, dir);
      results.push(r);
      console.log(`${p.name.padEnd(14)} ${String(r['callsPerSecond']).padStart(6)} calls/s wrapped up | disposition exactly once ${r['exactlyOne']}, none ${r['none']}, several ${r['several']} | hang-up -> disposition p50/p99 ${r['latencyP50']}/${r['latencyP99']} ms | not ready at the end ${(r['notReady'] as string[]).length} | errors ${r['errors']}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const [lv, ...others] = results;
  for (const o of others) if (lv) console.log(`${o['platform']} / livevox calls/s: ${((o['callsPerSecond'] as number) / (lv['callsPerSecond'] as number)).toFixed(2)} (${BUSY} busy agents, talk ${TALK_MS} ms, ${WINDOW_MS / 1000} s each, same machine, same run)`);
  console.log(`results written to ${await writeResults('calls-platforms', new Date(), results)}`);
  const clean = results.every((r) => r['none'] === 0 && r['several'] === 0 && (r['notReady'] as string[]).length === 0 && r['errors'] === 0);
  return clean ? 0 : 1;
}

runMain('bench:calls:platforms', main);
