// Calls benchmark: whole LiveVox calls through the full pipeline, as fast as they complete cleanly.
//
//   npm run bench:calls      (builds, then runs dist/bench/calls.js)
//
// The gateway runs as its own process (`vagw start`, log level warn, builtin:echo engine) and the
// LiveVox sandbox as another (`vagw sandbox`: the strict LiveVox simulator and its SIP call placer),
// the gateway pointed at it as at a remote LiveVox (`livevox.baseUrl: http://127.0.0.1:<port>`), so
// the gateway's figures are the gateway's alone. The gateway logs AGENTS virtual agents in, joins
// them to service 1001 and makes them Ready through the simulator's LiveVox API. This process only
// drives the simulator's admin API (bench/calls/driver.ts):
//   POST /__sim/calls {agent}          LiveVox routes a customer to the agent: the placer sends the
//                                      INVITE (Record-Route, X-transaction-id, Session-ID) and a
//                                      440 Hz RTP tone; the gateway answers, bridges the echo engine
//   ... TALK_MS later ...
//   POST /__sim/calls/end {by: customer}  the placer BYEs the gateway; the gateway sets the term code
//                                      ('Caller Hung Up') and Ready through the LiveVox API (outbox)
//   ... the agent READY again: its next call.
// Steps of N busy agents (default 25, 50, 100, 200, 400, 800: well past saturation): 3 s warm-up, 20 s
// measured, stop placing, wait until every call is wrapped up (bounded), then read the simulator's
// records (GET /__sim/state) and the gateway's /metrics. Per step: goodput (answered calls the
// customer ended, agent READY again inside the window, per second), calls shed with 503 for
// overload, INVITE->Ready and hang-up->Ready from the simulator's own clock and agent state
// history, term codes per call, agents not READY. Targets are ratios: goodput at 2x and 4x the peak
// step's load >= 90 % of the peak, nothing lost at any step. Prints a line per step, a table and
// the targets; writes bench/results/calls-<date>.json.
// Everything runs on 127.0.0.1. Exit code: 0 all targets met, 1 a target missed, 2 the bench
// itself failed.
//
// Diagnostics (not the default run): BENCH_CALLS_PIN=1 pins the gateway to CPU 0 and the sandbox and
// this driver to CPU 1 (taskset), so the gateway has a core to itself; BENCH_CALLS_STEPS=200,200 runs exactly these steps (no early
// stop); BENCH_CALLS_GATEWAY_ROOT=<checkout> runs that checkout's build as the gateway (an A/B of two
// builds with the same driver, one after the other on the same machine); BENCH_CALLS_ROUTE_DELAY_MS=<ms> routes each call only that long after the agent turned READY
// (the driver then polls the agent's line through the LiveVox API instead of asking for the call).
import { mkdtemp } from 'node:fs/promises';
import { writeResults } from './results.js';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/sipp.js';
import { SplitProcesses, writeSplitConfigs } from './calls/split-config.js';
import { analyzeStep, settled, type Snapshot } from './calls/analyze.js';
import { Driver } from './calls/driver.js';
import { HttpClient, readMetrics } from './calls/http.js';
import { checks, finalTable, stepLine, stepProblems, type StepResult, type Totals } from './calls/report.js';
import { clockTicks, cpuTicks, guardRun, machineCpu, runMain, type Gateway } from './media/procs.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AGENTS = 800;
const DEFAULT_STEPS = [25, 50, 100, 200, 400, 800];
const TALK_MS = 400;
const WARMUP_MS = 3000;
const WINDOW_MS = 20_000;
/** The simulator keeps 10 000 call records; a step places at most this many so none is dropped before it is read. */
const CAP_CALLS = 9000;
const SETTLE_MS = 20_000;
const BUDGET_MS = 6 * 60_000;
const HARD_LIMIT_MS = 7 * 60_000;
const RTP_MIN = 20000; // below Linux's ephemeral range, where the placer's RTP sockets live
const RTP_MAX = 29999;
/** Goodput at 2x and 4x the peak step's load must stay at least this share of the peak. */
const TARGETS = { overloadGoodputShare: 0.9 };
/** A shed agent comes back to the platform 1 s later (the gateway's default is 5 s). */
const RETRY_AFTER_S = 1;
const GOOD_TERM_CODE = 'Caller Hung Up';
/** The term code of a call the gateway refused (overload 503): the profile's `failed`. */
const SHED_TERM_CODE = 'Gateway Refused';
const NAMES = { good: GOOD_TERM_CODE, shed: SHED_TERM_CODE };
const LV = { accessToken: 'bench-access-token', clientName: 'bench', password: 'bench' };

const agentIds = Array.from({ length: AGENTS }, (_, i) => `va-${String(i + 1).padStart(3, '0')}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const CLK = clockTicks();

function parseSteps(text: string | undefined): number[] {
  if (!text) return DEFAULT_STEPS;
  const steps = text.split(',').map((s) => Number(s.trim()));
  if (steps.length > 8 || steps.some((n) => !Number.isInteger(n) || n < 1 || n > AGENTS)) {
    throw new Error(`BENCH_CALLS_STEPS must list at most 8 busy-agent counts 1..${AGENTS}, got ${JSON.stringify(text)}`);
  }
  return steps;
}

function parseDelay(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 5000) throw new Error(`BENCH_CALLS_ROUTE_DELAY_MS must be 0..5000 ms, got ${JSON.stringify(text)}`);
  return n;
}

interface Ctx {
  gateway: Gateway;
  sandbox: Gateway;
  gw: HttpClient;
  sim: HttpClient;
  driver: Driver;
}

function assertGatewayAlive(c: Ctx): void {
  for (const [name, p] of [['gateway', c.gateway], ['sandbox', c.sandbox]] as const) {
    const ch = p.child;
    if (ch.exitCode !== null || ch.signalCode !== null) throw new Error(`the ${name} exited (${ch.exitCode ?? ch.signalCode}) mid-run\n${p.out.tail.trim()}`);
  }
}

async function snapshot(c: Ctx): Promise<Snapshot> {
  return c.sim.json<Snapshot>('GET', '/__sim/state');
}

/** After /healthz: every agent READY at LiveVox and offered by the gateway's pool. Returns the simulator's request counts then. */
async function waitAgentsReady(c: Ctx, timeoutMs: number): Promise<Record<string, number>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    assertGatewayAlive(c);
    const s = await snapshot(c);
    const ready = s.agents.filter((a) => a.state === 'READY').length;
    const m = await readMetrics(c.gw);
    const pool = m['vagw_agents{state="ready"}'] ?? 0;
    if (ready === AGENTS && pool === AGENTS) return s.requests;
    if (Date.now() > until) throw new Error(`after ${timeoutMs / 1000} s only ${ready} of ${AGENTS} agents are READY at the simulator, ${pool} ready in the gateway's pool`);
    await sleep(250);
  }
}

/** Warn/error log lines grouped by message and error (numbers and paths blurred), most frequent first. */
function logSummary(lines: string[]): string[] {
  const groups = new Map<string, number>();
  for (const l of lines) {
    let key: string;
    try {
      const j = JSON.parse(l) as { level?: number; msg?: string; err?: string; step?: string };
      const err = (j.err ?? '').replace(/\/tmp\/[^' ]+/g, '<path>').replace(/\b[\w-]*\d{3,}[\w-]*\b/g, '#');
      key = `${j.level === 40 ? 'warn' : 'error'}: ${j.msg ?? ''}${j.step ? ` [${j.step}]` : ''}${err ? `: ${err}` : ''}`;
    } catch {
      key = l.slice(0, 160);
    }
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${String(n).padStart(4)} x ${k.slice(0, 260)}`);
}

function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    // gauges are reported as their value after the step
    const gauge = /^vagw_(calls_active|agents|rtp_port_pairs|media_sessions|sip_transactions_active|wrapup_steps_pending|draining)\b/.test(k);
    const v = gauge ? (b[k] ?? 0) : (b[k] ?? 0) - (a[k] ?? 0);
    if (v !== 0) out[k] = v;
  }
  return out;
}

/** Wait until no call is up and no wrap-up step is pending, then until the simulator's records agree. */
async function settle(c: Ctx, tids: Set<string>): Promise<{ snap: Snapshot; ms: number }> {
  const t0 = Date.now();
  const until = t0 + SETTLE_MS;
  for (;;) {
    assertGatewayAlive(c);
    const m = await readMetrics(c.gw);
    if ((m['vagw_calls_active'] ?? 0) === 0 && (m['vagw_wrapup_steps_pending'] ?? 0) === 0) break;
    if (Date.now() > until) break;
    await sleep(100);
  }
  for (;;) {
    const snap = await snapshot(c);
    if (settled(snap, tids) || Date.now() > until) return { snap, ms: Date.now() - t0 };
    await sleep(500);
  }
}

async function runStep(c: Ctx, n: number): Promise<StepResult> {
  const m0 = await readMetrics(c.gw);
  const run = c.driver.start(agentIds.slice(0, n), n);
  let capped = false;
  void run.capped.then(() => (capped = true));
  await Promise.race([sleep(WARMUP_MS), run.capped]);
  const gwPid = c.gateway.child.pid;
  const sbPid = c.sandbox.child.pid;
  const t0 = [cpuTicks(gwPid), cpuTicks(process.pid), cpuTicks(sbPid)];
  const mc0 = machineCpu();
  const w0 = Date.now();
  if (!capped) await Promise.race([sleep(WINDOW_MS), run.capped]);
  const w1 = Date.now();
  const t1 = [cpuTicks(gwPid), cpuTicks(process.pid), cpuTicks(sbPid)];
  const mc1 = machineCpu();
  await run.stop();
  assertGatewayAlive(c);
  const tids = new Set(run.calls.map((x) => x.tid));
  const { snap, ms } = await settle(c, tids);
  const m1 = await readMetrics(c.gw);
  const seconds = (w1 - w0) / 1000;
  const cpuPct = (a: number | null, b: number | null): number | null => (a === null || b === null || seconds <= 0 ? null : ((b - a) / CLK / seconds) * 100);
  const records = analyzeStep(snap, run.calls, w0, w1, NAMES);
  const base = {
    n,
    warmupMs: WARMUP_MS,
    w0,
    w1,
    capped,
    callsPerSecond: seconds > 0 ? records.completedInWindow / seconds : 0,
    goodput: seconds > 0 ? records.goodInWindow / seconds : 0,
    startedPerSecond: seconds > 0 ? records.startedInWindow / seconds : 0,
    driver: run.stats,
    records,
    metricsDelta: delta(m0, m1),
    cpu: {
      gatewayPercent: cpuPct(t0[0]!, t1[0]!),
      sandboxPercent: cpuPct(t0[2]!, t1[2]!),
      benchPercent: cpuPct(t0[1]!, t1[1]!),
      machineBusyPercent: ((mc1.busy - mc0.busy) / Math.max(1, mc1.total - mc0.total)) * 100 * cpus().length,
      cpus: cpus().length,
    },
    settleMs: ms,
  };
  return { ...base, problems: stepProblems(base, NAMES) };
}

async function main(): Promise<number> {
  const started = Date.now();
  const STEPS = parseSteps(process.env['BENCH_CALLS_STEPS']);
  const ROUTE_DELAY = parseDelay(process.env['BENCH_CALLS_ROUTE_DELAY_MS']);
  const dir = await mkdtemp(join(tmpdir(), 'bench-calls-'));
  const procs = new SplitProcesses(dir);
  const cleanup = (): Promise<void> => procs.stop();
  guardRun('bench:calls', HARD_LIMIT_MS, cleanup);

  try {
    const sipPort = await freePort();
    const httpPort = await freePort();
    const simPort = await freePort();
    const files = await writeSplitConfigs({
      dir, name: 'bench-calls', sipPort, httpPort, simPort, lv: LV, agents: { count: AGENTS, idPrefix: 'va-' },
      rtp: { min: RTP_MIN, max: RTP_MAX, timeoutSeconds: 0 },
      gatewayLines: [`  limits: { maxCalls: 100000, maxCallsPerSecond: 100000, retryAfterSeconds: ${RETRY_AFTER_S} }`, '  drainTimeoutSeconds: 2'],
      contactCenterLines: [
        `      termCodes: { completed: Bot Completed, callerHungUp: ${GOOD_TERM_CODE}, transferred: Transferred, failed: ${SHED_TERM_CODE} }`,
        '      wrapUp: { maxAttempts: 8, retryMs: 50 }',
      ],
    });
    const gatewayRoot = process.env['BENCH_CALLS_GATEWAY_ROOT'] ? resolve(process.env['BENCH_CALLS_GATEWAY_ROOT']) : ROOT;
    if (gatewayRoot !== ROOT) console.log(`gateway build under test: ${gatewayRoot}`);
    // The simulator and its call placer are the load: their own process (this checkout's build).
    const { gateway, sandbox, gw, sim } = await procs.start({ root: ROOT, gatewayRoot, files, httpPort, simPort });
    const c: Ctx = { gateway, sandbox, gw, sim, driver: new Driver(sim, { talkMs: TALK_MS, capCalls: CAP_CALLS, routeDelayMs: ROUTE_DELAY, lv: LV }) };
    const tReady = Date.now();
    const requestsAtStart = await waitAgentsReady(c, 30_000);
    console.log(`gateway pid ${gateway.child.pid} (SIP udp 127.0.0.1:${sipPort}, HTTP :${httpPort}, builtin:echo, ${cpus().length} media workers); LiveVox sandbox pid ${sandbox.child.pid} (:${simPort}); ` +
      `${AGENTS} agents READY at the simulator and in the pool ${((Date.now() - tReady) / 1000).toFixed(1)} s after /healthz`);
    console.log(`the simulator and its call placer (SIP + RTP) run in a process of their own (vagw sandbox); the gateway is alone in its process; all share these ${cpus().length} CPUs with this driver`);
    console.log(`each call: talk ${TALK_MS} ms, then the customer hangs up; steps: ${WARMUP_MS / 1000} s warm-up + ${WINDOW_MS / 1000} s measured (at most ${CAP_CALLS} calls)`);
    console.log(ROUTE_DELAY === null
      ? 'routing: the next call goes to an agent as soon as it is READY at the simulator (as LiveVox does with customers in queue)\n'
      : `routing (DIAGNOSTIC, BENCH_CALLS_ROUTE_DELAY_MS): the next call goes to an agent only ${ROUTE_DELAY} ms after it turned READY at the simulator\n`);

    // The agents' start-up (logins, joins, Readys) is over before the ramp: no step inherits it.
    for (const t0 = Date.now(); Date.now() - t0 < 15_000; await sleep(250)) {
      if (((await readMetrics(gw))['vagw_event_loop_delay_p99_seconds'] ?? 0) < 0.05) break;
    }

    const steps: StepResult[] = [];
    let lastStepMs = 0;
    for (const n of STEPS) {
      const projected = Date.now() - started + Math.max(lastStepMs * 1.3, 35_000);
      if (steps.length > 0 && projected > BUDGET_MS) {
        console.log(`        ! stop: time budget (${BUDGET_MS / 60_000} min) reached before ${n} busy agents`);
        break;
      }
      const t = Date.now();
      const s = await runStep(c, n);
      lastStepMs = Date.now() - t;
      steps.push(s);
      console.log(stepLine(s));
    }

    // Final state: the last step's settle waited for it; read it once more, after everything.
    const finalSnap = await snapshot(c);
    const finalMetrics = await readMetrics(c.gw);
    const stuck = finalSnap.agents.filter((a) => a.state !== 'READY');
    const totals: Totals = {
      placed: steps.reduce((a, s) => a + s.records.placed, 0),
      exactlyOne: steps.reduce((a, s) => a + s.records.termCodes.exactlyOne, 0),
      none: steps.reduce((a, s) => a + s.records.termCodes.none + s.records.missing, 0),
      several: steps.reduce((a, s) => a + s.records.termCodes.several, 0),
      refusals: steps.reduce((a, s) => a + s.records.termCodes.refusals, 0),
      stuck: stuck.length,
      agents: finalSnap.agents.length,
    };
    const best = steps.reduce<StepResult | null>((b, s) => (b === null || s.goodput > b.goodput ? s : b), null);
    const results = checks(steps, totals, TARGETS);

    console.log('');
    for (const line of finalTable(steps, best?.n ?? null)) console.log(line);
    console.log('');
    console.log('INVITE->Ready: the simulator routes the call (its placer sends the INVITE at once) -> the agent READY again at the simulator,');
    console.log(`  both on the simulator's clock; it includes the ${TALK_MS} ms talk time. hang-up->Ready: the customer hangs up (placer BYE) -> READY`);
    console.log('  (BYE, term code and Ready through the LiveVox API, the outbox fsyncs). calls/s: agents READY again inside the window.');
    if (best) {
      const r = best.records;
      console.log(`peak goodput step (${best.n} busy): INVITE->Ready p50/p90/p99/max ${r.inviteToReady.p50}/${r.inviteToReady.p90}/${r.inviteToReady.p99}/${r.inviteToReady.max} ms; ` +
        `hang-up->Ready ${r.hangupToReady.p50}/${r.hangupToReady.p90}/${r.hangupToReady.p99}/${r.hangupToReady.max} ms; hang-up->term code p99 ${r.hangupToTermCode.p99} ms; ` +
        `admin POST->routed p99 ${r.postToStart.p99} ms; READY->next call p50/p99 ${r.readyToNextCall.p50}/${r.readyToNextCall.p99} ms; ${best.driver.probes} probes (409 not READY) for ${best.driver.placed} calls`);
    }
    console.log('');
    const sum = (re: RegExp): string => Object.entries(finalMetrics).filter(([k]) => re.test(k)).map(([k, v]) => `${k.replace(/^vagw_[a-z_]+/, '') || 'total'} ${v}`).join(', ') || 'none';
    console.log(`gateway /metrics at the end: answered ${finalMetrics['vagw_calls_answered_total'] ?? 0}; ended ${sum(/^vagw_calls_ended_total/)}; ` +
      `refused ${sum(/^vagw_invites_refused_total/)}; active ${finalMetrics['vagw_calls_active'] ?? 0}; ` +
      `wrap-up confirmed ${finalMetrics['vagw_wrapup_steps_confirmed_total'] ?? 0}, retries ${finalMetrics['vagw_wrapup_retries_total'] ?? 0}, failures ${finalMetrics['vagw_wrapup_failures_total'] ?? 0}, pending ${finalMetrics['vagw_wrapup_steps_pending'] ?? 0}; ` +
      `agents ${sum(/^vagw_agents/)}; SIP transaction timeouts ${finalMetrics['vagw_sip_transaction_timeouts_total'] ?? 0}`);
    const placedAll = totals.placed || 1;
    const own: Record<string, number> = {};
    for (const s of steps) for (const [k, v] of Object.entries(s.driver.lvRequests)) own[k] = (own[k] ?? 0) + v;
    const reqs = Object.entries(finalSnap.requests)
      .map(([k, v]) => [k, v - (own[k] ?? 0) - (requestsAtStart[k] ?? 0)] as const)
      .filter(([, v]) => v > 0);
    console.log(`simulator LiveVox API requests from the gateway per call (all ${totals.placed} calls; after the agents' start-up${Object.keys(own).length ? `, the bench's own logins and status polls excluded` : ''}): ` +
      `${reqs.map(([k, v]) => `${k} ${(v / placedAll).toFixed(2)}`).join(', ') || 'none'}`);
    console.log(`simulator at the end: ${finalSnap.agents.length - stuck.length} of ${finalSnap.agents.length} agents READY${stuck.length ? ` (not READY: ${stuck.slice(0, 5).map((a) => `${a.user} ${a.state}`).join(', ')})` : ''}; ` +
      `requests sent again after a connection reset: ${sim.resets} (simulator), ${gw.resets} (gateway); ` +
      `gateway log: ${gateway.out.warnings} warn, ${gateway.out.errors} error lines${gateway.out.lines.length ? ` (the first ${gateway.out.lines.length}, grouped:)` : ''}`);
    for (const line of logSummary(gateway.out.lines)) console.log(`  ${line}`);
    console.log('');
    for (const ch of results) console.log(`${ch.pass ? 'PASS' : 'FAIL'}  ${ch.name}: ${ch.value}`);

    const date = new Date().toISOString();
    const json = {
      date,
      host: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, clkTck: CLK },
      settings: { agents: AGENTS, steps: STEPS, routing: ROUTE_DELAY === null ? 'as soon as READY' : `${ROUTE_DELAY} ms after READY (diagnostic)`, talkMs: TALK_MS, warmupMs: WARMUP_MS, windowMs: WINDOW_MS, capCalls: CAP_CALLS, settleMs: SETTLE_MS, targets: TARGETS },
      steps: steps.map((s) => ({ ...s, records: { ...s.records, notReady: s.records.notReady.slice(0, 50) } })),
      bestN: best?.n ?? null,
      totals,
      checks: results,
      connectionResets: { simulator: sim.resets, gateway: gw.resets },
      final: { metrics: finalMetrics, simulatorRequests: finalSnap.requests, notReady: stuck.map((a) => ({ user: a.user, state: a.state, since: a.stateChangedTime, lastCall: a.lastCall, currentCall: a.currentCall })) },
      gatewayLog: { warnings: gateway.out.warnings, errors: gateway.out.errors, lines: gateway.out.lines },
      elapsedSeconds: (Date.now() - started) / 1000,
    };
    const outFile = await writeResults('calls', date, json);
    console.log(`\nresults written to ${outFile} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    return results.every((x) => x.pass) ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runMain('bench:calls', main);
