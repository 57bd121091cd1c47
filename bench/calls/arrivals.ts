/**
 * The calls bench's default load: customers arriving at the sandbox's ACD at a fixed rate
 * (POST /__sim/arrivals, src/vendors/livevox/simulator/acd.ts). Open loop, as a contact center's
 * inbound traffic is: the rate does not bend to how fast the gateway serves, so a rate of twice or
 * four times what the gateway can serve is an overload it must survive. The customers wait in the
 * service's queue; the ACD routes one to an agent the moment the agent is READY (nobody polls), the
 * customer talks `talkMs` from the answer and hangs up; a customer waiting `maxWaitMs` gives up.
 *
 * One step: arrivals at `rate` with the step's transaction-id prefix, a warm-up, a measured window,
 * then arrivals stopped (the waiting queue dropped), every call settled, and the simulator's records
 * of the step's calls read back (GET /__sim/state?callPrefix=...).
 */
import type { ArrivalStats } from '../../src/vendors/livevox/simulator/acd.js';
import { analyzeStep } from './analyze.js';
import { readMetrics } from './http.js';
import { stepResult, type StepResult } from './report.js';
import { assertGatewayAlive, cpuMark, cpuShares, delta, settle, type Ctx } from './step.js';

/** What the ACD saw in a step: the measured window's counts, and the whole step's after its settle. */
export interface ArrivalsOfStep {
  /** Offered load: customers arrived in the window, per second. */
  offeredPerSecond: number;
  window: { arrived: number; routed: number; abandoned: number };
  atStop: ArrivalStats;
}

export interface ArrivalsStepOptions {
  talkMs: number;
  maxWaitMs: number;
  warmupMs: number;
  windowMs: number;
  settleMs: number;
  names: { good: string; shed: string };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The gateway's headroom gauges, sampled every second of the window: mean and max of each. */
const GAUGES = ['vagw_event_loop_utilization', 'vagw_event_loop_delay_p99_seconds', 'vagw_overload_shed_share', 'vagw_calls_in_setup', 'vagw_calls_active', 'vagw_wrapup_oldest_pending_seconds', 'vagw_media_tick_lateness_max_seconds', 'vagw_ready_gate_limit', 'vagw_ready_gate_waiting'];

async function sampleGauges(c: Ctx, windowMs: number): Promise<Record<string, { mean: number; max: number }>> {
  const sums: Record<string, { sum: number; max: number; n: number }> = {};
  const until = Date.now() + windowMs;
  while (Date.now() < until) {
    await sleep(Math.min(1000, Math.max(0, until - Date.now())));
    const m = await readMetrics(c.gw);
    for (const g of GAUGES) {
      const v = m[g] ?? 0;
      const e = (sums[g] ??= { sum: 0, max: 0, n: 0 });
      e.sum += v;
      e.max = Math.max(e.max, v);
      e.n++;
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, e]) => [k.replace(/^vagw_/, ''), { mean: e.sum / e.n, max: e.max }]));
}

async function acd(c: Ctx, body?: Record<string, unknown>): Promise<ArrivalStats> {
  const r = body ? await c.sim.json<{ stats: ArrivalStats }>('POST', '/__sim/arrivals', body) : await c.sim.json<{ stats: ArrivalStats }>('GET', '/__sim/arrivals');
  return r.stats;
}

/** One step at `rate` customers per second; `overload` marks the 2x and 4x steps. */
export async function runArrivalsStep(c: Ctx, rate: number, prefix: string, o: ArrivalsStepOptions, overload?: number): Promise<StepResult> {
  const m0 = await readMetrics(c.gw);
  await acd(c, { ratePerSec: rate, talkMs: o.talkMs, maxWaitMs: o.maxWaitMs, prefix });
  await sleep(o.warmupMs);
  const a0 = await acd(c);
  const cpu0 = cpuMark(c);
  const w0 = Date.now();
  const during = await sampleGauges(c, o.windowMs);
  const w1 = Date.now();
  const cpu1 = cpuMark(c);
  const a1 = await acd(c);
  await acd(c, { ratePerSec: 0, dropWaiting: true, prefix });
  assertGatewayAlive(c);
  const { snap, ms } = await settle(c, o.settleMs, { callPrefix: prefix });
  // The stop keeps the counters: after the settle they hold the whole step, every call ended.
  const total = await acd(c);
  const m1 = await readMetrics(c.gw);
  const seconds = (w1 - w0) / 1000;
  const placed = snap.calls.map((x) => ({ tid: x.transactionId, agent: x.agentUser, postAt: x.startedAt }));
  const records = analyzeStep(snap, placed, w0, w1, o.names);
  return stepResult(
    {
      n: rate,
      ...(overload ? { overload } : {}),
      warmupMs: o.warmupMs,
      w0,
      w1,
      capped: false,
      driver: { placed: placed.length, probes: 0, probeStates: {}, lvRequests: {}, errorCount: 0, errors: [], endedByAgent: total.endedByAgent },
      arrivals: {
        offeredPerSecond: seconds > 0 ? (a1.arrived - a0.arrived) / seconds : 0,
        window: { arrived: a1.arrived - a0.arrived, routed: a1.routed - a0.routed, abandoned: a1.abandoned - a0.abandoned },
        atStop: total,
      },
      records,
      during,
      metricsDelta: delta(m0, m1),
      cpu: cpuShares(cpu0, cpu1, seconds),
      settleMs: ms,
    },
    o.names,
  );
}

/**
 * The ramp's rates: from `first`, each `factor` times the last, until a step serves less than
 * `saturated` of what was offered (the gateway is past its sustainable rate), at most `max` steps.
 */
export function nextRampRate(steps: StepResult[], o: { first: number; factor: number; saturated: number; max: number }): number | null {
  const ramp = steps.filter((s) => s.overload === undefined);
  if (ramp.length === 0) return o.first;
  const last = ramp[ramp.length - 1]!;
  const offered = last.arrivals?.offeredPerSecond ?? last.n;
  if (ramp.length >= o.max || last.goodput < o.saturated * offered) return null;
  return Math.round(last.n * o.factor);
}
