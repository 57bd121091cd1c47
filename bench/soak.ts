// Soak: the full pipeline held at a steady load for SOAK_MINUTES (default 30), its resources and
// call outcomes sampled every 10 s.
//
//   npm run soak            (builds, then runs dist/bench/soak.js; SOAK_MINUTES=5 for a short run)
//
// Processes: the gateway (`vagw start`, builtin:echo engine: RTP both ways through the media
// workers), the LiveVox sandbox (`vagw sandbox`: simulator and call placer with a 440 Hz RTP tone),
// and this driver (bench/calls/driver.ts): SOAK_BUSY agents (default 40) take calls back to back,
// each 3 s of audio, then the customer hangs up. Load is placed in 60 s segments; after each, the
// simulator's records of the segment's calls are checked (exactly one term code, ended by the
// customer) before the next, so the simulator's 10 000 records are never outrun.
// Every 10 s: the gateway's RSS (/proc), V8 heap, open descriptors, event-loop delay p99 (its
// /metrics), calls/s answered and calls active. Output: bench/results/soak-<date>.{json,csv,svg,png}.
// Targets: 0 failed calls; RSS, heap and descriptors flat: the mean of the last 5 minutes within
// 5 % of the mean of minutes 5-10 (after warm-up); for descriptors, the part the calls up at the
// moment do not explain, within 5 % or 10.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/sipp.js';
import { analyzeStep, type Snapshot } from './calls/analyze.js';
import { SplitProcesses, writeSplitConfigs } from './calls/split-config.js';
import { Driver } from './calls/driver.js';
import { readMetrics } from './calls/http.js';
import { guardRun, rssKb, runMain } from './media/procs.js';
import { writeResults } from './results.js';
import { writePlot } from './soak/plot.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MINUTES = Number(process.env['SOAK_MINUTES'] ?? 30);
const BUSY = Number(process.env['SOAK_BUSY'] ?? 40);
const TALK_MS = 3000;
const SEGMENT_MS = 60_000;
const SAMPLE_MS = 10_000;
const LV = { accessToken: 'soak-access-token', clientName: 'soak', password: 'soak' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample { t: number; rssMB: number; heapMB: number; fds: number; loopP99Ms: number; answeredPerS: number; active: number; failedSoFar: number }

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function main(): Promise<number> {
  if (!(MINUTES >= 1 && MINUTES <= 240)) throw new Error(`SOAK_MINUTES must be 1..240, got ${MINUTES}`);
  const dir = await mkdtemp(join(tmpdir(), 'soak-'));
  const procs = new SplitProcesses(dir);
  const cleanup = (): Promise<void> => procs.stop();
  guardRun('soak', (MINUTES + 5) * 60_000, cleanup);
  try {
    const [sipPort, httpPort, simPort] = [await freePort(), await freePort(), await freePort()];
    const files = await writeSplitConfigs({ dir, name: 'soak', sipPort, httpPort, simPort, lv: LV, agents: { count: BUSY, idPrefix: 'sk-' }, rtp: { min: 20000, max: 29999, timeoutSeconds: 10 } });
    const { gateway, sandbox, gw, sim } = await procs.start({ root: ROOT, gatewayRoot: ROOT, files, httpPort, simPort });
    const agents = Array.from({ length: BUSY }, (_, i) => `sk-${String(i + 1).padStart(3, '0')}`);
    for (const t0 = Date.now(); ; await sleep(250)) {
      const s = await sim.json<Snapshot>('GET', '/__sim/state');
      if (s.agents.filter((a) => a.state === 'READY').length === BUSY) break;
      if (Date.now() - t0 > 30_000) throw new Error('agents not READY within 30 s');
    }
    console.log(`soak: ${MINUTES} min, ${BUSY} busy agents, ${TALK_MS / 1000} s calls with RTP both ways (builtin:echo); gateway pid ${gateway.child.pid}, sandbox pid ${sandbox.child.pid}, ${cpus().length} CPUs`);
    const driver = new Driver(sim, { talkMs: TALK_MS, capCalls: 9000, routeDelayMs: null, lv: LV });
    const samples: Sample[] = [];
    const failures: string[] = [];
    let placed = 0;
    const start = Date.now();
    let lastAnswered = (await readMetrics(gw))['vagw_calls_answered_total'] ?? 0;
    let lastAt = start;
    const sampler = setInterval(() => {
      void (async () => {
        const m = await readMetrics(gw);
        const now = Date.now();
        const answered = m['vagw_calls_answered_total'] ?? 0;
        samples.push({
          t: (now - start) / 1000,
          rssMB: (rssKb(gateway.child.pid) ?? 0) / 1024,
          heapMB: (m['vagw_process_heap_used_bytes'] ?? 0) / 2 ** 20,
          fds: m['vagw_process_open_fds'] ?? 0,
          loopP99Ms: (m['vagw_event_loop_delay_p99_seconds'] ?? 0) * 1000,
          answeredPerS: (answered - lastAnswered) / ((now - lastAt) / 1000),
          active: m['vagw_calls_active'] ?? 0,
          failedSoFar: failures.length,
        });
        lastAnswered = answered;
        lastAt = now;
      })().catch((e: Error) => failures.push(`sample: ${e.message}`));
    }, SAMPLE_MS);
    while (Date.now() - start < MINUTES * 60_000) {
      const run = driver.start(agents, BUSY);
      await sleep(Math.min(SEGMENT_MS, MINUTES * 60_000 - (Date.now() - start)));
      await run.stop();
      placed += run.calls.length;
      // Every call of the segment wrapped up before its records are read.
      const tids = new Set(run.calls.map((c) => c.tid));
      let snap = await sim.json<Snapshot>('GET', '/__sim/state');
      for (let i = 0; i < 100 && snap.calls.some((c) => tids.has(c.transactionId) && (c.status !== 'ended' || c.termCodes.length === 0)); i++) {
        await sleep(100);
        snap = await sim.json<Snapshot>('GET', '/__sim/state');
      }
      const r = analyzeStep(snap, run.calls, 0, Date.now());
      const bad = r.missing + r.notEnded + r.endedByAgent + r.termCodes.none + r.termCodes.several;
      if (bad) failures.push(`segment at ${((Date.now() - start) / 60_000).toFixed(1)} min: ${bad} failed calls (${r.examples.slice(0, 3).join('; ')})`);
      const mins = ((Date.now() - start) / 60_000).toFixed(1);
      const last = samples.at(-1);
      console.log(`${mins.padStart(5)} min: ${placed} calls, ${failures.length} failures; RSS ${last?.rssMB.toFixed(1)} MB, heap ${last?.heapMB.toFixed(1)} MB, fds ${last?.fds}, loop p99 ${last?.loopP99Ms.toFixed(1)} ms`);
    }
    clearInterval(sampler);

    // Flat resources: the last 5 minutes against minutes 5-10 (or, for short runs, the first and last fifth).
    const tEnd = samples.at(-1)?.t ?? 0;
    const early = MINUTES >= 15 ? samples.filter((s) => s.t >= 300 && s.t < 600) : samples.filter((s) => s.t < tEnd / 5 + 1 && s.t > tEnd / 10);
    const late = MINUTES >= 15 ? samples.filter((s) => s.t >= tEnd - 300) : samples.filter((s) => s.t >= tEnd * 0.8);
    // Descriptors follow the calls up at the moment (RTP/RTCP sockets): the leak signal is what the
    // calls do not explain, the intercept of fds against active calls (slope fitted on every sample).
    const ma = mean(samples.map((x) => x.active));
    const mf = mean(samples.map((x) => x.fds));
    const va = mean(samples.map((x) => (x.active - ma) ** 2));
    const slope = va > 0 ? mean(samples.map((x) => (x.active - ma) * (x.fds - mf))) / va : 0;
    const baseFds = (xs: Sample[]): number => mean(xs.map((x) => x.fds - slope * x.active));
    const drift = (k: 'rssMB' | 'heapMB' | 'fds'): number => (mean(early.map((s) => s[k])) ? (mean(late.map((s) => s[k])) / mean(early.map((s) => s[k])) - 1) * 100 : 0);
    const checks = [
      { name: '0 failed calls (one term code each, ended by the customer)', value: `${failures.length} failures in ${placed} calls`, pass: failures.length === 0 && placed > 0 },
      { name: 'RSS flat within 5 %', value: `${drift('rssMB').toFixed(2)} % (${mean(early.map((s) => s.rssMB)).toFixed(1)} -> ${mean(late.map((s) => s.rssMB)).toFixed(1)} MB)`, pass: Math.abs(drift('rssMB')) <= 5 },
      { name: 'heap flat within 5 %', value: `${drift('heapMB').toFixed(2)} % (${mean(early.map((s) => s.heapMB)).toFixed(1)} -> ${mean(late.map((s) => s.heapMB)).toFixed(1)} MB)`, pass: Math.abs(drift('heapMB')) <= 5 },
      { name: 'file descriptors not explained by the calls up, flat (within 5 % or 10)', value: `${baseFds(early).toFixed(1)} -> ${baseFds(late).toFixed(1)} (${slope.toFixed(2)} per active call)`, pass: Math.abs(baseFds(late) - baseFds(early)) <= Math.max(10, 0.05 * baseFds(early)) },
    ];
    const date = new Date().toISOString();
    const json = { date, minutes: MINUTES, busy: BUSY, talkMs: TALK_MS, placed, callsPerSecond: placed / (tEnd || 1), failures, checks, samples };
    const file = await writeResults('soak', date, json);
    const base = file.replace(/\.json$/, '');
    await writeFile(`${base}.csv`, ['t_s,rss_mb,heap_mb,fds,loop_p99_ms,answered_per_s,active,failed', ...samples.map((s) => [s.t.toFixed(0), s.rssMB.toFixed(2), s.heapMB.toFixed(2), s.fds, s.loopP99Ms.toFixed(2), s.answeredPerS.toFixed(2), s.active, s.failedSoFar].join(','))].join('\n') + '\n');
    const png = await writePlot(base, `vagw soak ${MINUTES} min, ${BUSY} busy agents, ${placed} calls, ${failures.length} failed`, [
      { name: 'gateway RSS', unit: 'MB', points: samples.map((s) => [s.t, s.rssMB]) },
      { name: 'V8 heap used', unit: 'MB', points: samples.map((s) => [s.t, s.heapMB]) },
      { name: 'open file descriptors', unit: 'count', points: samples.map((s) => [s.t, s.fds]) },
      { name: 'event-loop delay p99', unit: 'ms', points: samples.map((s) => [s.t, s.loopP99Ms]) },
      { name: 'calls answered', unit: 'per s', points: samples.map((s) => [s.t, s.answeredPerS]) },
    ]);
    console.log('');
    for (const c of checks) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}`);
    console.log(`\nresults: ${file}, ${base}.csv, ${png ?? `${base}.svg (no Chromium for the PNG)`}`);
    return checks.every((c) => c.pass) ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runMain('soak', main);
