// The contact-center platforms side by side: the same calls, the same driver, one run, one machine.
//
//   npm run bench:calls:platforms      (builds, then runs dist/bench/calls-platforms.js)
//
// For each platform with a sandbox (LiveVox, the agent session protocol, Huawei AICC, the CCaaS
// voice adapter) the platform's
// strict simulator and the shared call placer run as one process (`vagw sandbox`) and the gateway
// as another (`vagw start`, builtin:echo, log level warn), pointed at the simulator as at a remote
// tenant (Huawei: its CC-Gateway URL and its SIP registrar, where the gateway registers the agents'
// phones). This process keeps BUSY agents busy through the simulator's admin
// API: route a customer to the agent as soon as the platform has it ready (a 409 "not ready" is
// "not yet", asked again 10 ms later), let it talk TALK_MS, the customer hangs up, repeat. After
// WINDOW_MS it stops, waits for every agent to be ready again (bounded), and reads the simulator's
// records: calls whose wrap-up finished (LiveVox: exactly one term code; agent session: exactly one
// after-call work, then ready; Huawei: exactly one `work`, then idle; CCaaS: exactly one
// PARTICIPANT_CALL_COMPLETED, no duplicate, no rule broken), hang-up -> disposition and
// hang-up -> ready again on the simulator's clock, and agents not ready at the end. Compared
// between platforms in one run, not as absolute rates (machines here differ by 2x).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/sipp.js';
import { HttpClient } from './calls/http.js';
import { guardRun, runMain, startGateway, startSandboxProcess, stopChild, type Gateway } from './media/procs.js';
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
  /** gateway.yaml's platform section for the gateway (the simulator as a remote tenant) or the sandbox. */
  section(role: 'gateway' | 'sandbox', simPort: number, simSipPort: number): string;
  contactCenter: string;
  /** The profile's agents line (default: +18990000001.. with ids va-NNN). */
  agents?: string;
  route(sim: HttpClient, agent: string, seq: number): Promise<{ ok: true; id: string } | { ok: false; status: number; text: string }>;
  end(sim: HttpClient, id: string): Promise<number>;
  /** Agents the platform has ready, from GET /__sim/state. */
  ready(state: unknown): number;
  /** From GET /__sim/state: per call (ended in the window) the dispositions and hang-up -> disposition, and the agents not ready. */
  read(state: unknown, from: number, to: number): Reading;
}

interface Reading {
  done: number;
  exactlyOne: number;
  none: number;
  several: number;
  /** Hang-up -> disposition, ms. */
  latencies: number[];
  /** Hang-up -> the platform has the agent ready again, ms. */
  readyAgain: number[];
  notReady: string[];
}

type Lv = { agents: { user: string; state: string; history: { state: string; at: number }[] }[]; calls: { agentUser: string; startedAt: number; endedAt?: number; termCodes: { at: number }[] }[] };
type Hw = { agents: { agentId: string; status: string }[]; calls: { startedAt: number; releasedAt?: number; workRequests: number; workAt?: number; idleAt?: number }[] };
type Cc = { numbers: Record<string, { providerId?: string }>; agents: { userName: string; available: boolean }[]; conversations: { startedAt: number; endedAt?: number; events: { type: string; at: number }[]; duplicates: number; violations: string[] }[] };
type As = { sessions: { agent: string; channel?: { status: string } }[]; calls: { startedAt: number; endedAt?: number; acw: { at: number }[]; readyAt?: number }[] };

const PLATFORMS: Platform[] = [
  {
    name: 'livevox',
    section: (role, p) => `livevox: { baseUrl: ${role === 'sandbox' ? 'sandbox' : `http://127.0.0.1:${p}`}, accessToken: bench, clientName: bench, sandboxPort: ${p} }`,
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
        readyAgain: mine.flatMap((c) => {
          const at = s.agents.find((a) => a.user === c.agentUser)?.history.find((h) => h.state === 'READY' && h.at >= c.endedAt!)?.at;
          return at === undefined ? [] : [at - c.endedAt!];
        }),
        notReady: s.agents.filter((a) => a.state !== 'READY').map((a) => `${a.user} ${a.state}`),
      };
    },
  },
  {
    name: 'agent-session',
    section: (role, p) => `agentSession: { url: ${role === 'sandbox' ? 'sandbox' : `ws://127.0.0.1:${p}/agent-session`}, sandboxPort: ${p} }`,
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
        readyAgain: mine.filter((c) => c.readyAt !== undefined).map((c) => c.readyAt! - c.endedAt!),
        notReady: s.sessions.filter((x) => x.channel?.status !== 'ready').map((x) => `${x.agent} ${x.channel?.status ?? 'no channel'}`),
      };
    },
  },
  {
    // Agents va-001.. are workNo 1001.. with softphone numbers 70001..; each phone registers with the simulator.
    name: 'huawei-aicc',
    section: (role, p, sip) =>
      `huaweiAicc: { baseUrl: ${role === 'sandbox' ? 'sandbox' : `http://127.0.0.1:${p}`}, registrar: "127.0.0.1:${sip}", phonePassword: bench-phone, sandboxPort: ${p}, sandboxSipPort: ${sip} }`,
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
        readyAgain: mine.filter((c) => c.idleAt !== undefined).map((c) => c.idleAt! - c.releasedAt!),
        notReady: s.agents.filter((a) => a.status !== 'idle').map((a) => `${a.agentId} ${a.status}`),
      };
    },
  },
  {
    // The gateway is the voice provider: the platform accepts each call through the adapter endpoint; events on the sandbox's webhook.
    name: 'ccaas',
    section: (role, p) => `ccaas: { baseUrl: ${role === 'sandbox' ? 'sandbox' : `http://127.0.0.1:${p}`}, sandboxPort: ${p}, adapterToken: bench-adapter-token-0123456789, tokenSecret: bench-token-secret-bench-token-secret-0123, phoneNumbers: [{ id: tfn-1, number: "+18005550100" }], events: { sink: webhook, webhookUrl: "http://127.0.0.1:${p}/__sim/events" } }`,
    contactCenter: '{ vendor: ccaas, serviceId: voice, wrapUp: { maxAttempts: 8, retryMs: 50 } }',
    agents: `{ range: { from: "+18990000001", count: ${AGENTS} }, idPrefix: va-, idWidth: 3 }`,
    route: async (sim, agent) => {
      const r = await sim.request('POST', '/__sim/calls', { agent });
      if (r.status !== 201) return { ok: false, status: r.status, text: r.text };
      const c = JSON.parse(r.text) as { conversationId: string; state: string };
      // Not accepted: the call rings out at the gateway; counted as an error, not a call.
      return c.state === 'accepted' ? { ok: true, id: c.conversationId } : { ok: false, status: 500, text: `not accepted: ${c.state}` };
    },
    end: async (sim, id) => (await sim.request('POST', `/__sim/conversations/${id}/hangup`)).status,
    // Ready once the gateway has registered itself as the number's voice provider.
    ready: (raw) => (Object.values((raw as Cc).numbers).some((n) => n.providerId) ? (raw as Cc).agents.filter((a) => a.available).length : 0),
    read: (raw, from, to) => {
      const s = raw as Cc;
      const mine = s.conversations.filter((c) => c.endedAt !== undefined && c.startedAt >= from && c.endedAt <= to);
      const completed = (c: Cc['conversations'][number]) => c.events.filter((e) => e.type === 'PARTICIPANT_CALL_COMPLETED');
      return {
        done: mine.filter((c) => completed(c).length === 1 && c.duplicates === 0 && c.violations.length === 0).length,
        exactlyOne: mine.filter((c) => completed(c).length === 1).length,
        none: mine.filter((c) => completed(c).length === 0).length,
        several: mine.filter((c) => completed(c).length > 1 || c.duplicates > 0).length,
        latencies: mine.filter((c) => completed(c).length > 0).map((c) => completed(c)[0]!.at - c.endedAt!),
        // The platform offers the agent again once the completion arrived.
        readyAgain: mine.filter((c) => completed(c).length > 0).map((c) => completed(c)[0]!.at - c.endedAt!),
        notReady: s.agents.filter((a) => !a.available).map((a) => `${a.userName} busy`),
      };
    },
  },
];

function config(p: Platform, role: 'gateway' | 'sandbox', ports: { sip: number; http: number; sim: number; simSip: number }, dataDir: string): string {
  return `gateway: { name: bench-${p.name}-${role}, http: { host: 127.0.0.1, port: ${role === 'gateway' ? ports.http : 0} }, limits: { maxCalls: 100000, maxCallsPerSecond: 100000, retryAfterSeconds: 1 }, drainTimeoutSeconds: 2, logLevel: warn }
media: { host: 127.0.0.1, rtpPortMin: 20000, rtpPortMax: 29999, workers: 0, rtpTimeoutSeconds: 0 }
${p.section(role, ports.sim, ports.simSip)}
dataDir: ${JSON.stringify(`${dataDir}-${role}`)}
profiles:
  - name: bench
    listen: { host: 127.0.0.1, port: ${ports.sip}, transports: [udp] }
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
  const ports = { sip: await freePort(), http: await freePort(), sim: await freePort(), simSip: await freePort() };
  const files = { gateway: join(dir, `${p.name}-gateway.yaml`), sandbox: join(dir, `${p.name}-sandbox.yaml`) };
  for (const role of ['gateway', 'sandbox'] as const) await writeFile(files[role], config(p, role, ports, join(dir, `data-${p.name}`)));
  let gw: Gateway | undefined;
  let sandbox: Gateway | undefined;
  const sim = new HttpClient('127.0.0.1', ports.sim);
  try {
    sandbox = await startSandboxProcess(ROOT, files.sandbox, ports.sim);
    gw = await startGateway(ROOT, files.gateway, ports.http, false);
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
    const errorKinds = new Map<string, number>();
    const from = Date.now();
    const loop = async (agent: string): Promise<void> => {
      while (!stop) {
        const r = await p.route(sim, agent, ++seq).catch(() => ({ ok: false as const, status: 0, text: 'transport' }));
        if (!r.ok) {
          if (r.status === 409) probes++;
          else {
            errors++;
            const k = `${r.status} ${r.text.slice(0, 120)}`;
            errorKinds.set(k, (errorKinds.get(k) ?? 0) + 1);
          }
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
    const { latencies, readyAgain, ...counts } = r;
    return { platform: p.name, busy: BUSY, windowS: (to - from) / 1000, callsPerSecond: Math.round((r.done / ((to - from) / 1000)) * 10) / 10, ...counts, latencyP50: pct(latencies, 0.5), latencyP99: pct(latencies, 0.99), readyAgainP50: pct(readyAgain, 0.5), readyAgainP99: pct(readyAgain, 0.99), probes, errors, ...(errorKinds.size ? { errorKinds: Object.fromEntries([...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 3)) } : {}) };
  } finally {
    sim.close();
    await stopChild(gw?.child, 7000);
    await stopChild(sandbox?.child, 7000);
  }
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-platforms-'));
  guardRun('bench:calls:platforms', 9 * 60_000, async () => rm(dir, { recursive: true, force: true }));
  const results: Record<string, unknown>[] = [];
  try {
    // Diagnostics: BENCH_PLATFORMS=ccaas,livevox runs only these.
    const only = process.env['BENCH_PLATFORMS']?.split(',');
    for (const p of PLATFORMS.filter((x) => !only || only.includes(x.name))) {
      const r = await runPlatform(p, dir);
      results.push(r);
      console.log(`${p.name.padEnd(14)} ${String(r['callsPerSecond']).padStart(6)} calls/s wrapped up | disposition exactly once ${r['exactlyOne']}, none ${r['none']}, several ${r['several']} | hang-up -> disposition p50/p99 ${r['latencyP50']}/${r['latencyP99']} ms, -> ready again ${r['readyAgainP50']}/${r['readyAgainP99']} ms | not ready at the end ${(r['notReady'] as string[]).length} | errors ${r['errors']}${r['errorKinds'] ? ` ${JSON.stringify(r['errorKinds'])}` : ''}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const lv = results.find((r) => r['platform'] === 'livevox');
  for (const o of results.filter((r) => r !== lv)) if (lv) console.log(`${o['platform']} / livevox calls/s: ${((o['callsPerSecond'] as number) / (lv['callsPerSecond'] as number)).toFixed(2)} (${BUSY} busy agents, talk ${TALK_MS} ms, ${WINDOW_MS / 1000} s each, same machine, same run)`);
  console.log(`results written to ${await writeResults('calls-platforms', new Date(), results)}`);
  const clean = results.every((r) => r['none'] === 0 && r['several'] === 0 && (r['notReady'] as string[]).length === 0 && r['errors'] === 0);
  return clean ? 0 : 1;
}

runMain('bench:calls:platforms', main);
