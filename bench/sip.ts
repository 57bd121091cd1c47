// SIP benchmark: how many calls per second the gateway sustains, next to
// SIPp's own built-in UAS on the same machine, and how fast it answers.
//
//   npm run bench:sip      (builds, then runs dist/bench/sip.js)
//
// For each target (the gateway, then `sipp -sn uas`), with test/sipp/bench-call.xml
// (INVITE/200/ACK/BYE/200, no media) and every call to a different agent:
//  1. probe 5 s at 250, 500, 1000, 1500, ... calls/s until a probe has a
//     failed call or reaches less than 95 % of the asked rate;
//  2. confirm the best probed rate for 30 s; on failure step down 10 % and
//     retry (at most 3 times);
//  3. measure INVITE -> 200 over 10 s at 200 calls/s (p50/p99).
// Prints a table, checks the targets and writes bench/results/sip-<date>.json.
// Everything runs on 127.0.0.1. Exit code: 0 all targets met, 1 a target
// missed, 2 the bench itself failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { writeResults } from './results.js';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, runSipp, startSippUas, type SippResult, type SippUas } from '../test/helpers/sipp.js';
import { runMain, stopChild } from './media/procs.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AGENTS = 5000;
const PROBE_SECONDS = 5;
const CONFIRM_SECONDS = 30;
const LATENCY_SECONDS = 10;
const LATENCY_RATE = 200;
const MAX_RATE = 8000;
const TARGETS = { minRate: 1000, minRatio: 0.4, maxP99Ms: 20 };

const numbers = Array.from({ length: AGENTS }, (_, i) => `+1899${String(i + 1).padStart(7, '0')}`);

interface RunSummary { rate: number; seconds: number; successful: number; failed: number; achieved: number; ok: boolean; exitCode: number | null }
interface TargetReport {
  name: string;
  probes: RunSummary[];
  confirmations: RunSummary[];
  sustainedRate: number;
  capped: boolean;
  latency: { rate: number; samples: number; failed: number; p50Ms: number | null; p99Ms: number | null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gatewayConfig(sipPort: number, httpPort: number): string {
  return `gateway:
  name: bench
  http: { host: 127.0.0.1, port: ${httpPort} }
  limits: { maxCalls: 100000, maxCallsPerSecond: 100000, retryAfterSeconds: 1 }
  drainTimeoutSeconds: 5
  logLevel: warn
media: { host: 127.0.0.1, rtpPortMin: 10000, rtpPortMax: 19999 }
profiles:
  - name: bench
    listen: { host: 127.0.0.1, port: ${sipPort}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    # The load generator is one trusted address whose job is to find capacity: no per-source cap.
    edge: { perSourceRequestsPerSecond: 0 }
    codecs: [PCMU, PCMA, telephone-event]
    engine: builtin:echo
    agents: [ { range: { from: "${numbers[0]}", count: ${AGENTS} }, idPrefix: "b-", idStart: 1, idWidth: 5 } ]
`;
}

/**
 * Starts the gateway and resolves once /healthz answers 200 (the bench runs the gateway at log
 * level warn, so there is no "gateway started" line to wait for).
 */
async function startGateway(configPath: string, httpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'start', '--config', configPath],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.stdout?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}) before it started\n${stderr.trim()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      if (r.status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not answer /healthz within 20 s\n${stderr.trim()}`);
    }
    await sleep(100);
  }
}


async function callRun(port: number, rate: number, seconds: number, traceRtt = false): Promise<SippResult> {
  return runSipp({
    scenario: 'bench-call.xml',
    target: `127.0.0.1:${port}`,
    injection: numbers,
    calls: rate * seconds,
    rate,
    limit: Math.max(100, Math.ceil(rate / 5)),
    timeoutSec: seconds * 2 + 10,
    recvTimeoutMs: 5000,
    traceRtt,
  });
}

function summarize(rate: number, seconds: number, r: SippResult): RunSummary {
  const achieved = r.successful / (r.durationMs / 1000);
  const ok = r.exitCode === 0 && r.failed === 0 && r.successful === rate * seconds && achieved >= 0.95 * rate;
  return { rate, seconds, successful: r.successful, failed: r.failed, achieved: Math.round(achieved), ok, exitCode: r.exitCode };
}

function log(target: string, what: string, s: RunSummary): void {
  console.log(`[${target}] ${what} ${s.rate} cps x ${s.seconds} s: ${s.successful} ok, ${s.failed} failed, ` +
    `${s.achieved} cps achieved, exit ${s.exitCode} -> ${s.ok ? 'pass' : 'FAIL'}`);
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

function* probeRates(): Generator<number> {
  yield 250;
  yield 500;
  for (let rate = 1000; rate <= MAX_RATE; rate += 500) yield rate;
}

async function measureTarget(name: string, port: number): Promise<TargetReport> {
  const probes: RunSummary[] = [];
  let best = 0;
  for (const rate of probeRates()) {
    const s = summarize(rate, PROBE_SECONDS, await callRun(port, rate, PROBE_SECONDS));
    probes.push(s);
    log(name, 'probe', s);
    await sleep(2000); // let retransmissions and timers of the last run die out
    if (!s.ok) break;
    best = rate;
  }
  const capped = best === MAX_RATE;

  const confirmations: RunSummary[] = [];
  let sustainedRate = 0;
  for (let rate = best, attempt = 0; rate > 0 && attempt <= 3; attempt++, rate = Math.floor(rate * 0.9)) {
    const s = summarize(rate, CONFIRM_SECONDS, await callRun(port, rate, CONFIRM_SECONDS));
    confirmations.push(s);
    log(name, 'confirm', s);
    await sleep(2000);
    if (s.ok) {
      sustainedRate = rate;
      break;
    }
  }

  const r = await callRun(port, LATENCY_RATE, LATENCY_SECONDS, true);
  const rtt = [...(r.rttMs ?? [])].sort((a, b) => a - b);
  const latency = { rate: LATENCY_RATE, samples: rtt.length, failed: r.failed, p50Ms: percentile(rtt, 50), p99Ms: percentile(rtt, 99) };
  console.log(`[${name}] INVITE->200 at ${LATENCY_RATE} cps: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms ` +
    `(${latency.samples} samples, ${latency.failed} failed)`);
  return { name, probes, confirmations, sustainedRate, capped, latency };
}

function printTable(reports: TargetReport[], ratio: number | null, checks: { name: string; value: string; pass: boolean }[]): void {
  const rows = [['target', 'sustained cps (30 s, 0 failed)', 'ratio', 'INVITE->200 p50 / p99 @200 cps']];
  for (const r of reports) {
    rows.push([r.name, `${r.sustainedRate}${r.capped ? ' (probe cap)' : ''}`, r.name === 'gateway' && ratio !== null ? ratio.toFixed(2) : '',
      `${r.latency.p50Ms ?? '-'} / ${r.latency.p99Ms ?? '-'} ms`]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log('');
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  |  '));
  console.log('');
  for (const c of checks) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sip-'));
  let gateway: ChildProcess | undefined;
  let uas: SippUas | undefined;
  const cleanup = async () => {
    await Promise.all([stopChild(gateway, 7000), uas?.stop()]);
    await rm(dir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().finally(() => process.exit(2));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const gatewayPort = await freePort();
    const configPath = join(dir, 'gateway.yaml');
    const httpPort = await freePort();
    await writeFile(configPath, gatewayConfig(gatewayPort, httpPort));
    gateway = await startGateway(configPath, httpPort);
    uas = await startSippUas(0, 'udp');
    console.log(`gateway on 127.0.0.1:${gatewayPort}, sipp uas on 127.0.0.1:${uas.port}, ${cpus().length} CPUs`);

    const gw = await measureTarget('gateway', gatewayPort);
    await stopChild(gateway, 7000);
    const ref = await measureTarget('sipp-uas', uas.port);

    const ratio = ref.sustainedRate > 0 ? gw.sustainedRate / ref.sustainedRate : null;
    const checks = [
      { name: `gateway sustains >= ${TARGETS.minRate} cps`, value: `${gw.sustainedRate} cps`, pass: gw.sustainedRate >= TARGETS.minRate },
      { name: `gateway / sipp-uas >= ${TARGETS.minRatio}`, value: ratio === null ? 'n/a' : ratio.toFixed(2), pass: ratio !== null && ratio >= TARGETS.minRatio },
      { name: `gateway INVITE->200 p99 < ${TARGETS.maxP99Ms} ms`, value: `${gw.latency.p99Ms ?? 'n/a'} ms`,
        pass: gw.latency.p99Ms !== null && gw.latency.failed === 0 && gw.latency.p99Ms < TARGETS.maxP99Ms },
    ];
    printTable([gw, ref], ratio, checks);

    const date = new Date().toISOString();
    const results = { date, host: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
      settings: { agents: AGENTS, probeSeconds: PROBE_SECONDS, confirmSeconds: CONFIRM_SECONDS, latencyRate: LATENCY_RATE,
        latencySeconds: LATENCY_SECONDS, maxProbeRate: MAX_RATE, rttResolutionMs: 1 },
      targets: { gateway: gw, sippUas: ref }, ratio, checks };
    const outFile = await writeResults('sip', date, results);
    console.log(`\nresults written to ${outFile}`);
    return checks.every((c) => c.pass) ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runMain('bench:sip', main);
