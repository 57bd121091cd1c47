// Calls benchmark: whole LiveVox calls through the full pipeline, past saturation.
//
//   npm run bench:calls      (builds, then runs dist/bench/calls.js)
//
// The gateway runs as its own process (`vagw start`, log level warn, builtin:echo engine) and the
// LiveVox sandbox as another (`vagw sandbox`: the strict LiveVox simulator, its ACD and its SIP
// call placer), the gateway pointed at it as at a remote LiveVox (`livevox.baseUrl:
// http://127.0.0.1:<port>`), so the gateway's figures are the gateway's alone. The gateway logs
// AGENTS virtual agents in, joins them to service 1001 and makes them Ready through the
// simulator's LiveVox API.
//
// The load (default, bench/calls/arrivals.ts): customers arriving at the sandbox's ACD at a fixed
// rate (open loop, as a contact center's inbound traffic), routed to READY agents the moment they
// are READY; the placer sends the INVITE (Record-Route, X-transaction-id, Session-ID) and a 440 Hz
// RTP tone, the gateway answers and bridges the echo engine, the customer hangs up TALK_MS after
// the answer, the gateway sets the term code ('Caller Hung Up') and Ready through the LiveVox API.
// A ramp of rates (from 200/s, x1.2 per step) until a step serves less than 95 % of what it was offered; the
// peak goodput of the ramp is the sustainable rate; then a step at 2x and one at 4x that rate.
// Each step: 3 s warm-up, 20 s measured, arrivals stopped (the queue dropped), every call wrapped
// up (bounded), the simulator's records of the step's calls read back. Per step: goodput
// (answered calls the customer ended, agent READY again inside the window, per second), calls shed
// with 503 for overload, customers who gave up waiting, INVITE->Ready and hang-up->Ready from the
// simulator's own clock and agent state history, term codes per call, agents not READY. Targets are
// ratios: goodput at 2x and 4x >= 90 % of the peak, nothing lost at any step. Prints a line per
// step, a table and the targets; writes bench/results/calls-<date>.json.
// Everything runs on 127.0.0.1. Exit code: 0 all targets met, 1 a target missed, 2 the bench
// itself failed.
//
// Diagnostics (not the default run): BENCH_CALLS_RATES=100,200 runs exactly these rates (no ramp;
// then 2x and 4x of the best); BENCH_CALLS_MODE=agents is the closed-loop load of issues 4-10
// (bench/calls/driver.ts: N busy agents, each taking calls back to back through the admin API;
// BENCH_CALLS_STEPS=200,400 its busy-agent counts); BENCH_CALLS_PIN=1 pins the gateway to CPU 0 and
// the sandbox and this driver to CPU 1 (taskset); BENCH_CALLS_GATEWAY_ROOT=<checkout> runs that
// checkout's build as the gateway (an A/B of two builds, one after the other on the same machine);
// BENCH_CALLS_ROUTE_DELAY_MS=<ms> (agents mode) routes each call only that long after the agent
// turned READY; BENCH_CALLS_ELU=<percent> sets the gateway's overload.eventLoopUtilization (0: the
// Ready gate off, for an A/B).
import { mkdtemp } from 'node:fs/promises';
import { writeResults } from './results.js';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/sipp.js';
import { SplitProcesses, writeSplitConfigs } from './calls/split-config.js';
import { analyzeStep } from './calls/analyze.js';
import { nextRampRate, runArrivalsStep } from './calls/arrivals.js';
import { Driver } from './calls/driver.js';
import { readMetrics } from './calls/http.js';
import { checks, finalTable, peakStep, stepLine, stepResult, type StepResult, type Totals } from './calls/report.js';
import { assertGatewayAlive, cpuMark, cpuShares, delta, settle, snapshot, type Ctx } from './calls/step.js';
import { clockTicks, guardRun, runMain } from './media/procs.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AGENTS = 1000;
const DEFAULT_STEPS = [25, 50, 100, 200, 400, 800];
/** The ramp of arrival rates: x1.2 per step from 200/s until a step serves < 95 % of its offer. */
const RAMP = { first: 200, factor: 1.2, saturated: 0.95, max: 9 };
const TALK_MS = 400;
/** A customer waiting this long in the ACD's queue gives up. */
const MAX_WAIT_MS = 30_000;
const WARMUP_MS = 3000;
const WINDOW_MS = 20_000;
/** The simulator keeps 10 000 call records; a step places at most this many so none is dropped before it is read. */
const CAP_CALLS = 9000;
/** Arrivals: the sandbox keeps this many call records (a 4x step routes tens of thousands). */
const SANDBOX_KEEP_CALLS = 200_000;
const SETTLE_MS = 20_000;
const BUDGET_MS = 9 * 60_000;
const HARD_LIMIT_MS = 11 * 60_000;
const RTP_MIN = 20000; // below Linux's ephemeral range, where the placer's RTP sockets live
const RTP_MAX = 29999;
/** Goodput at 2x and 4x the peak must stay at least this share of the peak. */
const TARGETS = { overloadGoodputShare: 0.9 };
/** A shed agent comes back to the platform 1 s later (the gateway's default is 5 s). */
const RETRY_AFTER_S = 1;
const GOOD_TERM_CODE = 'Caller Hung Up';
/** The term code of a call the gateway refused (overload 503): the profile's `failed`. */
const SHED_TERM_CODE = 'Gateway Refused';
const NAMES = { good: GOOD_TERM_CODE, shed: SHED_TERM_CODE };
const LV = { accessToken: 'bench-access-token', clientName: 'bench', password: 'bench' };

const agentIds = Array.from({ length: AGENTS }, (_, i) => `va-${String(i + 1).padStart(3, '0')}`);
/** A call prefix no call has: a snapshot of the agents without the (many) call records. */
const NO_CALLS = 'no-calls:';
const CLK = clockTicks();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function parseList(name: string, text: string | undefined, max: number): number[] | null {
  if (!text) return null;
  const steps = text.split(',').map((s) => Number(s.trim()));
  if (steps.length > 8 || steps.some((n) => !Number.isInteger(n) || n < 1 || n > max)) {
    throw new Error(`${name} must list at most 8 integers 1..${max}, got ${JSON.stringify(text)}`);
  }
  return steps;
}

function parseDelay(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 5000) throw new Error(`BENCH_CALLS_ROUTE_DELAY_MS must be 0..5000 ms, got ${JSON.stringify(text)}`);
  return n;
}

/** After /healthz: every agent READY at LiveVox and offered by the gateway's pool. Returns the simulator's request counts then. */
async function waitAgentsReady(c: Ctx, timeoutMs: number): Promise<Record<string, number>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    assertGatewayAlive(c);
    const s = await snapshot(c, NO_CALLS);
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

/** Agents mode: `n` busy agents, each taking calls back to back through the admin API. */
async function runStep(c: Ctx, driver: Driver, n: number): Promise<StepResult> {
  const m0 = await readMetrics(c.gw);
  const run = driver.start(agentIds.slice(0, n), n);
  let capped = false;
  void run.capped.then(() => (capped = true));
  await Promise.race([sleep(WARMUP_MS), run.capped]);
  const cpu0 = cpuMark(c);
  const w0 = Date.now();
  if (!capped) await Promise.race([sleep(WINDOW_MS), run.capped]);
  const w1 = Date.now();
  const cpu1 = cpuMark(c);
  await run.stop();
  assertGatewayAlive(c);
  const tids = new Set(run.calls.map((x) => x.tid));
  const { snap, ms } = await settle(c, SETTLE_MS, { tids });
  const m1 = await readMetrics(c.gw);
  const records = analyzeStep(snap, run.calls, w0, w1, NAMES);
  return stepResult({ n, warmupMs: WARMUP_MS, w0, w1, capped, driver: run.stats, records, metricsDelta: delta(m0, m1), cpu: cpuShares(cpu0, cpu1, (w1 - w0) / 1000), settleMs: ms }, NAMES);
}

async function main(): Promise<number> {
  const started = Date.now();
  const MODE = process.env['BENCH_CALLS_MODE'] ?? 'arrivals';
  if (MODE !== 'arrivals' && MODE !== 'agents') throw new Error(`BENCH_CALLS_MODE must be 'arrivals' or 'agents', got ${JSON.stringify(MODE)}`);
  const STEPS = parseList('BENCH_CALLS_STEPS', process.env['BENCH_CALLS_STEPS'], AGENTS) ?? DEFAULT_STEPS;
  const RATES = parseList('BENCH_CALLS_RATES', process.env['BENCH_CALLS_RATES'], 5000);
  const ROUTE_DELAY = parseDelay(process.env['BENCH_CALLS_ROUTE_DELAY_MS']);
  const eluText = process.env['BENCH_CALLS_ELU'];
  const ELU = eluText === undefined || eluText === '' ? null : Number(eluText);
  if (ELU !== null && !(Number.isInteger(ELU) && ELU >= 0 && ELU <= 100)) throw new Error(`BENCH_CALLS_ELU must be a percent 0..100, got ${JSON.stringify(eluText)}`);
  if (ELU !== null) console.log(`gateway.overload.eventLoopUtilization: ${ELU} (BENCH_CALLS_ELU${ELU === 0 ? ': the Ready gate and utilization shedding off' : ''})`);
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
      gatewayLines: [
        `  limits: { maxCalls: 100000, maxCallsPerSecond: 100000, retryAfterSeconds: ${RETRY_AFTER_S} }`,
        '  drainTimeoutSeconds: 2',
        ...(ELU !== null ? [`  overload: { eventLoopUtilization: ${ELU} }`] : []),
      ],
      contactCenterLines: [
        `      termCodes: { completed: Bot Completed, callerHungUp: ${GOOD_TERM_CODE}, transferred: Transferred, failed: ${SHED_TERM_CODE} }`,
        '      wrapUp: { maxAttempts: 8, retryMs: 50 }',
      ],
      sandboxKeepCalls: SANDBOX_KEEP_CALLS,
    });
    const gatewayRoot = process.env['BENCH_CALLS_GATEWAY_ROOT'] ? resolve(process.env['BENCH_CALLS_GATEWAY_ROOT']) : ROOT;
    if (gatewayRoot !== ROOT) console.log(`gateway build under test: ${gatewayRoot}`);
    // The simulator, its ACD and its call placer are the load: their own process (this checkout's build).
    const { gateway, sandbox, gw, sim } = await procs.start({ root: ROOT, gatewayRoot, files, httpPort, simPort });
    const c: Ctx = { gateway, sandbox, gw, sim };
    const driver = new Driver(sim, { talkMs: TALK_MS, capCalls: CAP_CALLS, routeDelayMs: ROUTE_DELAY, lv: LV });
    const tReady = Date.now();
    const requestsAtStart = await waitAgentsReady(c, 30_000);
    console.log(`gateway pid ${gateway.child.pid} (SIP udp 127.0.0.1:${sipPort}, HTTP :${httpPort}, builtin:echo, ${cpus().length} media workers); LiveVox sandbox pid ${sandbox.child.pid} (:${simPort}); ` +
      `${AGENTS} agents READY at the simulator and in the pool ${((Date.now() - tReady) / 1000).toFixed(1)} s after /healthz`);
    console.log(`the simulator, its ACD and its call placer (SIP + RTP) run in a process of their own (vagw sandbox); the gateway is alone in its process; all share these ${cpus().length} CPUs with this driver`);
    console.log(`each call: talk ${TALK_MS} ms, then the customer hangs up; steps: ${WARMUP_MS / 1000} s warm-up + ${WINDOW_MS / 1000} s measured`);
    if (MODE === 'arrivals') {
      console.log(`load: customers arriving at the sandbox's ACD at a fixed rate (open loop), each routed to the READY agent idle longest the moment one is READY, giving up after ${MAX_WAIT_MS / 1000} s in the queue;`);
      console.log(RATES ? `rates (BENCH_CALLS_RATES): ${RATES.join(', ')}/s, then 2x and 4x the best goodput\n` : `a ramp from ${RAMP.first}/s, x${RAMP.factor} per step, until a step serves < ${RAMP.saturated * 100} % of its offer; then 2x and 4x its peak goodput\n`);
    } else {
      console.log(ROUTE_DELAY === null
        ? 'load (BENCH_CALLS_MODE=agents): N busy agents; the next call goes to an agent as soon as it is READY at the simulator (at most ' + CAP_CALLS + ' calls a step)\n'
        : `load (BENCH_CALLS_MODE=agents, DIAGNOSTIC BENCH_CALLS_ROUTE_DELAY_MS): the next call goes to an agent only ${ROUTE_DELAY} ms after it turned READY\n`);
    }

    // The agents' start-up (logins, joins, Readys) is over before the ramp: no step inherits it
    // (nor a Ready gate cap it left; the gate lifts it after 10 s without a signal over its limit).
    for (const t0 = Date.now(); Date.now() - t0 < 30_000; await sleep(250)) {
      const m = await readMetrics(gw);
      if ((m['vagw_event_loop_delay_p99_seconds'] ?? 0) < 0.05 && (m['vagw_ready_gate_limit'] ?? AGENTS) >= AGENTS) break;
    }

    const steps: StepResult[] = [];
    let lastStepMs = 0;
    const arrivalOpts = { talkMs: TALK_MS, maxWaitMs: MAX_WAIT_MS, warmupMs: WARMUP_MS, windowMs: WINDOW_MS, settleMs: SETTLE_MS, names: NAMES };
    const run = async (label: string, step: () => Promise<StepResult>): Promise<boolean> => {
      const projected = Date.now() - started + Math.max(lastStepMs * 1.3, 35_000);
      if (steps.length > 0 && projected > BUDGET_MS) {
        console.log(`        ! stop: time budget (${BUDGET_MS / 60_000} min) reached before ${label}`);
        return false;
      }
      const t = Date.now();
      const s = await step();
      lastStepMs = Date.now() - t;
      steps.push(s);
      console.log(stepLine(s));
      return true;
    };
    if (MODE === 'agents') {
      for (const n of STEPS) if (!(await run(`${n} busy agents`, () => runStep(c, driver, n)))) break;
    } else {
      for (let i = 0; ; i++) {
        const rate = RATES ? RATES[i] : nextRampRate(steps, RAMP);
        if (rate === undefined || rate === null) break;
        if (!(await run(`${rate}/s`, () => runArrivalsStep(c, rate, `s${i + 1}-`, arrivalOpts)))) break;
      }
      const peak = peakStep(steps);
      for (const k of [2, 4]) {
        if (!peak) break;
        const rate = Math.round(k * peak.goodput);
        if (!(await run(`${k}x (${rate}/s)`, () => runArrivalsStep(c, rate, `x${k}-`, arrivalOpts, k)))) break;
      }
    }

    // Final state: the last step's settle waited for it; read it once more, after everything.
    const finalSnap = await snapshot(c, NO_CALLS);
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
    const best = peakStep(steps);
    const results = checks(steps, totals, TARGETS);

    console.log('');
    for (const line of finalTable(steps, best)) console.log(line);
    console.log('');
    console.log('INVITE->Ready: the simulator routes the call (its placer sends the INVITE at once) -> the agent READY again at the simulator,');
    console.log(`  both on the simulator's clock; it includes the ${TALK_MS} ms talk time. hang-up->Ready: the customer hangs up (placer BYE) -> READY`);
    console.log('  (BYE, term code and Ready through the LiveVox API, the outbox fsyncs). calls/s: agents READY again inside the window.');
    if (best) {
      const r = best.records;
      console.log(`peak goodput step (${best.arrivals ? `${best.n}/s offered` : `${best.n} busy`}): INVITE->Ready p50/p90/p99/max ${r.inviteToReady.p50}/${r.inviteToReady.p90}/${r.inviteToReady.p99}/${r.inviteToReady.max} ms; ` +
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
      settings: { mode: MODE, agents: AGENTS, eventLoopUtilization: ELU ?? 'default', ...(MODE === 'agents' ? { steps: STEPS } : { rates: RATES ?? RAMP, maxWaitMs: MAX_WAIT_MS }), routing: ROUTE_DELAY === null ? 'as soon as READY' : `${ROUTE_DELAY} ms after READY (diagnostic)`, talkMs: TALK_MS, warmupMs: WARMUP_MS, windowMs: WINDOW_MS, capCalls: CAP_CALLS, settleMs: SETTLE_MS, targets: TARGETS },
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
