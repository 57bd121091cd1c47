// Media benchmark: how many concurrent calls the media plane carries with no lost or late audio,
// how evenly it paces the engine's audio back, what it adds on the way to the engine, and its
// CPU and memory per call, next to a bare Node UDP relay measured in the same run.
//
//   npm run bench:media      (builds, then runs dist/bench/media.js)
//
// Processes (all on 127.0.0.1): the gateway (`vagw start`, its own config), the bench engine
// (bench/media/engine.ts: a Twilio Media Streams echo over ws plus a UDP echo), the reference
// relay (bench/media/relay.ts) and the load generator (bench/media/generator.ts). This process
// only orchestrates and samples /proc while the others run.
//
// For N = 50, 100, 200, 300, 400, ... (at most 8 steps, about 6 minutes): place N calls (SIP over
// UDP, PCMU), stream one 20 ms frame per call, 2 s warm-up, 10 s measured, hang up; then the same
// N through the relay. Stop after the first N with loss, pacing jitter p99 > 5 ms or under 95 % of
// the packet rate. Prints a line per step, a final table and the targets; writes
// bench/results/media-<date>.json. Exit code: 0 all targets met, 1 a target missed, 2 the bench
// itself failed.
//
// Diagnostics (not the default run): BENCH_MEDIA_STEPS=200,200,200 runs exactly these steps (no
// early stop; e.g. to watch RSS across repeated steps); BENCH_MEDIA_INTERNAL=1 starts the gateway
// through bench/media/gateway.ts, which also reports the media workers' pacer lateness and heaps;
// BENCH_MEDIA_WORKERS=n sets the gateway's media workers (default 0: one per core);
// BENCH_MEDIA_GENERATOR_NICE=-5 raises the load generator's scheduling priority (see generator.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { writeResults } from './results.js';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/sipp.js';
import type { EngineHello, EngineStatus, EngineWindow, GatewayInternal, GeneratorWindow, HangupResult, PlaceResult } from './media/ipc.js';
import { clockTicks, cpuTicks, forkHelper, guardRun, runMain, machineCpu, rssKb, startGateway, stopChild, type Gateway, type Helper } from './media/procs.js';
import { checks, clean, finalTable, stepLines, type Step, type TargetRun } from './media/report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const HELPERS = join(HERE, 'media');
const DEFAULT_STEPS = [50, 100, 200, 300, 400, 500, 600, 700];
/** Diagnostics: BENCH_MEDIA_STEPS=200,200,200 repeats a step; BENCH_MEDIA_INTERNAL=1 reads the pacer's own lateness. */
const INTERNAL = process.env['BENCH_MEDIA_INTERNAL'] === '1';
/** Diagnostics: BENCH_MEDIA_WORKERS=1 runs one media worker instead of the default (one per core). */
const WORKERS = Number(process.env['BENCH_MEDIA_WORKERS'] ?? 0);
const AGENTS = 1000;
const WARMUP_MS = 2000;
const WINDOW_MS = 10_000;
const BUDGET_MS = 6 * 60_000;
const HARD_LIMIT_MS = 9 * 60_000;
const RTP_MIN = 20000; // below Linux's ephemeral range (32768+), where the generator's sockets live
const RTP_MAX = 29999;
const STOP = { minAchieved: 0.95 };
const TARGETS = { minCalls: 400, maxJitterP99Ms: 2, maxAddedP99Ms: 2, maxKbPerCall: 150 };

function parseSteps(text: string | undefined): number[] {
  if (!text) return DEFAULT_STEPS;
  const steps = text.split(',').map((s) => Number(s.trim()));
  if (steps.length > 8 || steps.some((n) => !Number.isInteger(n) || n < 1 || n > AGENTS)) {
    throw new Error(`BENCH_MEDIA_STEPS must list at most 8 call counts 1..${AGENTS}, got ${JSON.stringify(text)}`);
  }
  return steps;
}

const numbers = Array.from({ length: AGENTS }, (_, i) => `+1899${String(i + 1).padStart(7, '0')}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const CLK = clockTicks();

function gatewayConfig(sipPort: number, httpPort: number, enginePort: number): string {
  return `gateway:
  name: bench-media
  http: { host: 127.0.0.1, port: ${httpPort} }
  limits: { maxCalls: 100000, maxCallsPerSecond: 100000, retryAfterSeconds: 1 }
  drainTimeoutSeconds: 2
  logLevel: warn
media: { host: 127.0.0.1, rtpPortMin: ${RTP_MIN}, rtpPortMax: ${RTP_MAX}, workers: ${WORKERS}, rtpTimeoutSeconds: 0 }
engines:
  bench: { url: "ws://127.0.0.1:${enginePort}/", protocol: twilio }
profiles:
  - name: bench
    listen: { host: 127.0.0.1, port: ${sipPort}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    # The load generator is one trusted address whose job is to find capacity: no per-source cap.
    edge: { perSourceRequestsPerSecond: 0 }
    codecs: [PCMU, telephone-event]
    engine: bench
    agents: [ { range: { from: "${numbers[0]}", count: ${AGENTS} }, idPrefix: "m-", idStart: 1, idWidth: 4 } ]
`;
}

interface Procs {
  gateway: Gateway;
  engine: Helper;
  relay: Helper;
  gen: Helper;
  sipPort: number;
  httpPort: number;
  udpEchoPort: number;
  baselineRssKb: number | null;
}

async function waitEngine(p: Procs, pred: (s: EngineStatus) => boolean, timeoutMs: number): Promise<EngineStatus> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await p.engine.rpc.call<EngineStatus>('status');
    if (pred(s) || Date.now() > until) return s;
    await sleep(50);
  }
}

function assertGatewayAlive(p: Procs): void {
  const c = p.gateway.child;
  if (c.exitCode !== null || c.signalCode !== null) throw new Error(`the gateway exited (${c.exitCode ?? c.signalCode}) mid-run\n${p.gateway.out.tail.trim()}`);
}

async function metrics(p: Procs): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^(vagw_(?:calls_active|calls_ended_total|invites_refused_total|media_sessions|media_worker_restarts_total|rtp_port_pairs)[^ ]*) (\S+)$/.exec(line);
      if (m) out[m[1]!] = Number(m[2]);
    }
  } catch {
    // metrics are diagnostics only
  }
  return out;
}

const cpuPercent = (t0: number | null, t1: number | null, seconds: number): number | null =>
  t0 === null || t1 === null ? null : ((t1 - t0) / CLK / seconds) * 100;

async function runTarget(p: Procs, target: 'gateway' | 'relay', n: number): Promise<TargetRun> {
  const gen = p.gen.rpc;
  let place: PlaceResult;
  const pid = target === 'gateway' ? p.gateway.child.pid : p.relay.child.pid;
  const rssBefore = rssKb(pid);
  const logBefore = p.gateway.out.lines.length;
  if (target === 'gateway') {
    place = await gen.call<PlaceResult>('place', { sipPort: p.sipPort, numbers: numbers.slice(0, n), prefix: `n${n}-${Date.now()}` }, 120_000);
    const s = await waitEngine(p, (st) => st.connections >= place.placed, 15_000);
    if (s.connections < place.placed) console.log(`        ! only ${s.connections} of ${place.placed} engine connections came up`);
  } else {
    const { ports } = await p.relay.rpc.call<{ ports: number[] }>('setup', { n, enginePort: p.udpEchoPort }, 60_000);
    place = await gen.call<PlaceResult>('direct', { ports }, 60_000);
  }
  await gen.call('stream-start');
  await sleep(WARMUP_MS);
  const ticks0 = [cpuTicks(pid), cpuTicks(p.gen.child.pid), cpuTicks(p.engine.child.pid)];
  const m0 = machineCpu();
  const t0 = performance.now();
  await p.engine.rpc.call('window-start');
  if (target === 'gateway') await p.gateway.rpc?.call('stats'); // drops the samples from before the window
  await gen.call('window-start');
  await sleep(WINDOW_MS);
  const internal = target === 'gateway' ? await p.gateway.rpc?.call<GatewayInternal>('stats') : undefined;
  const rss = rssKb(pid);
  const ticks1 = [cpuTicks(pid), cpuTicks(p.gen.child.pid), cpuTicks(p.engine.child.pid)];
  const m1 = machineCpu();
  const seconds = (performance.now() - t0) / 1000;
  const g = await gen.call<GeneratorWindow>('window-stop');
  const e = await p.engine.rpc.call<EngineWindow>('window-stop');
  const hangup = await gen.call<HangupResult>('hangup', {}, 120_000);
  let metricsAfter: Record<string, number> | undefined;
  if (target === 'gateway') {
    await waitEngine(p, (st) => st.connections === 0, 15_000);
    assertGatewayAlive(p);
    metricsAfter = await metrics(p);
  } else {
    await p.relay.rpc.call('teardown');
  }
  await sleep(1000);
  const rssAfter = rssKb(pid);
  const cpu = cpuPercent(ticks0[0]!, ticks1[0]!, seconds);
  const calls = g.calls || n;
  // The gateway against its baseline after the warm-up call; the relay against itself just before the step.
  const base = target === 'gateway' ? p.baselineRssKb : rssBefore;
  const memPerCallKb = rss !== null && base !== null ? (rss - base) / calls : null;
  return {
    target, n, place, gen: g, engine: e, achieved: g.expected ? g.sent / g.expected : 0,
    cpuPercent: cpu, cpuPerCall: cpu === null ? null : cpu / calls,
    generatorCpuPercent: cpuPercent(ticks0[1]!, ticks1[1]!, seconds), engineCpuPercent: cpuPercent(ticks0[2]!, ticks1[2]!, seconds),
    machineBusyPercent: ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 100 * cpus().length,
    rssKb: rss, rssAfterKb: rssAfter, memPerCallKb, hangup,
    ...(internal ? { internal } : {}),
    ...(metricsAfter ? { metrics: metricsAfter, gatewayLogLines: p.gateway.out.lines.slice(logBefore) } : {}),
  };
}

function stopReason(r: TargetRun): string | null {
  if (r.gen.lost > 0) return `${r.gen.lost} frames lost`;
  // The capacity figure is "most calls with zero lost or late packets"; jitter is reported, not a stop.
  if (r.gen.late > 0) return `${r.gen.late} late packets (a missed 20 ms slot at the caller)`;
  if (r.achieved < STOP.minAchieved) return `generator reached ${(r.achieved * 100).toFixed(1)} % of the packet rate`;
  if (r.place.failed > 0) return `${r.place.failed} calls could not be placed`;
  if (r.gen.endedByGateway > 0) return `${r.gen.endedByGateway} calls ended by the gateway`;
  return null;
}

/** One short call to warm the gateway up (JIT, worker pools), then the RSS baseline; one through the relay. */
async function warmUp(p: Procs): Promise<void> {
  const r = await p.gen.rpc.call<PlaceResult>('place', { sipPort: p.sipPort, numbers: numbers.slice(0, 1), prefix: `warm-${Date.now()}` }, 30_000);
  if (r.placed !== 1) throw new Error(`warm-up call failed: ${r.failures.join('; ')}`);
  await waitEngine(p, (s) => s.connections >= 1, 5000);
  await p.gen.rpc.call('stream-start');
  await sleep(2000);
  await p.gen.rpc.call('hangup', {}, 30_000);
  const s = await waitEngine(p, (st) => st.connections === 0, 5000);
  const e = await p.engine.rpc.call<EngineStatus>('status');
  if (e.mediaOut === 0) throw new Error(`the warm-up call's audio never reached the engine (engine status ${JSON.stringify(s)})`);
  // The relay too, so its first step does not carry its own start-up (JIT, heap) as per-call figures.
  const { ports } = await p.relay.rpc.call<{ ports: number[] }>('setup', { n: 1, enginePort: p.udpEchoPort });
  await p.gen.rpc.call('direct', { ports });
  await p.gen.rpc.call('stream-start');
  await sleep(1000);
  await p.gen.rpc.call('hangup');
  await p.relay.rpc.call('teardown');
  await sleep(1000);
  p.baselineRssKb = rssKb(p.gateway.child.pid);
}

async function main(): Promise<number> {
  const started = Date.now();
  const STEPS = parseSteps(process.env['BENCH_MEDIA_STEPS']);
  const dir = await mkdtemp(join(tmpdir(), 'bench-media-'));
  let procs: Partial<Procs> = {};
  const cleanup = async (): Promise<void> => {
    const helpers = [procs.gen, procs.relay, procs.engine].filter((h): h is Helper => h !== undefined);
    await Promise.all([stopChild(procs.gateway?.child, 7000), ...helpers.map((h) => stopChild(h.child, 2000))]);
    await rm(dir, { recursive: true, force: true });
  };
  guardRun('bench:media', HARD_LIMIT_MS, cleanup);

  try {
    const engine = forkHelper(HELPERS, 'engine');
    procs.engine = engine;
    const hello = await engine.rpc.call<EngineHello>('hello');
    const sipPort = await freePort();
    const httpPort = await freePort();
    const configPath = join(dir, 'gateway.yaml');
    await writeFile(configPath, gatewayConfig(sipPort, httpPort, hello.wsPort));
    const gateway = await startGateway(ROOT, configPath, httpPort, INTERNAL);
    procs.gateway = gateway;
    const relay = forkHelper(HELPERS, 'relay');
    procs.relay = relay;
    const gen = forkHelper(HELPERS, 'generator');
    procs.gen = gen;
    await Promise.all([relay.rpc.call('teardown'), gen.rpc.call('hello')]);
    const p: Procs = { gateway, engine, relay, gen, sipPort, httpPort, udpEchoPort: hello.udpPort, baselineRssKb: null };
    procs = p;
    console.log(`gateway pid ${gateway.child.pid} (SIP 127.0.0.1:${sipPort}, ${WORKERS || cpus().length} media workers), ` +
      `${process.env['BENCH_MEDIA_GENERATOR_NICE'] ? `generator nice ${process.env['BENCH_MEDIA_GENERATOR_NICE']}, ` : ''}engine ws :${hello.wsPort} udp :${hello.udpPort}, ` +
      `relay pid ${relay.child.pid}, generator pid ${gen.child.pid}; ${cpus().length} CPUs, CLK_TCK ${CLK}`);
    await warmUp(p);
    console.log(`gateway RSS after a warm-up call: ${p.baselineRssKb} kB (baseline for memory per call)`);
    console.log(`steps: ${WARMUP_MS / 1000} s warm-up + ${WINDOW_MS / 1000} s measured each, gateway then relay at the same N\n`);

    const steps: Step[] = [];
    let lastStepMs = 0;
    for (const n of STEPS) {
      const projected = Date.now() - started + Math.max(lastStepMs * 1.4, 30_000);
      if (steps.length > 0 && projected > BUDGET_MS) {
        steps[steps.length - 1]!.stop = `time budget (${BUDGET_MS / 60_000} min) reached before N=${n}`;
        console.log(`        ! stop: time budget reached before N=${n}`);
        break;
      }
      const t = Date.now();
      const gw = await runTarget(p, 'gateway', n);
      const ref = await runTarget(p, 'relay', n);
      lastStepMs = Date.now() - t;
      const step: Step = { n, gateway: gw, relay: ref, stop: stopReason(gw) };
      steps.push(step);
      for (const line of stepLines(step)) console.log(line);
      if (step.stop && !process.env['BENCH_MEDIA_STEPS']) break;
    }

    const cleanSteps = steps.filter((s) => clean(s.gateway));
    const bestN = cleanSteps.length ? Math.max(...cleanSteps.map((s) => s.n)) : null;
    const best = steps.find((s) => s.n === bestN) ?? steps[0]!;
    const last = steps[steps.length - 1]!;
    const results = checks(best, bestN, last.stop ? `${last.stop} at N=${last.n}` : null, TARGETS);
    console.log('');
    for (const line of finalTable(best, bestN)) console.log(line);
    console.log('');
    for (const c of results) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
    console.log(`\ninternal pacer lateness: ${INTERNAL ? 'from the media workers (BENCH_MEDIA_INTERNAL=1)' : 'not reported (no stats endpoint; BENCH_MEDIA_INTERNAL=1 reads it)'}; gateway log: ${gateway.out.warnings} warn, ${gateway.out.errors} error lines`);

    const date = new Date().toISOString();
    const json = {
      date, host: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, clkTck: CLK },
      settings: { steps: STEPS, internal: INTERNAL, workers: WORKERS || cpus().length, generatorNice: Number(process.env['BENCH_MEDIA_GENERATOR_NICE'] ?? 0), warmupMs: WARMUP_MS, windowMs: WINDOW_MS, agents: AGENTS, rtpRange: [RTP_MIN, RTP_MAX], late: 'inter-arrival gap > 40 ms at the caller', stop: STOP, targets: TARGETS },
      baselineRssKb: p.baselineRssKb, steps, bestN, bestStepN: best.n, checks: results,
      gatewayLog: { warnings: gateway.out.warnings, errors: gateway.out.errors, lines: gateway.out.lines }, elapsedSeconds: (Date.now() - started) / 1000,
    };
    const outFile = await writeResults('media', date, json);
    console.log(`results written to ${outFile} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    return results.every((c) => c.pass) ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runMain('bench:media', main);
