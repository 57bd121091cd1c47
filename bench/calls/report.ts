/** The calls bench's step results, the line per step, the final table and the target checks. */
import type { Dist, StepRecords } from './analyze.js';
import type { ArrivalsOfStep } from './arrivals.js';
import type { DriverStats } from './driver.js';

export interface StepResult {
  /** Busy agents (concurrent call loops), or with `arrivals` the customers' arrival rate (per second). */
  n: number;
  /** Arrivals only: this step offers that many times the ramp's peak goodput (2, 4). */
  overload?: number;
  /** Arrivals only: what the sandbox's ACD counted. */
  arrivals?: ArrivalsOfStep;
  /** Arrivals only: the gateway's headroom gauges during the window (without vagw_), mean and max. */
  during?: Record<string, { mean: number; max: number }>;
  warmupMs: number;
  /** Measured window, bench clock (epoch ms). */
  w0: number;
  w1: number;
  capped: boolean;
  /** Agents READY again inside the window, per second (answered or shed). */
  callsPerSecond: number;
  /** Goodput: answered calls the customer ended, agent READY again inside the window, per second. */
  goodput: number;
  /** Calls the simulator routed inside the window, per second. */
  startedPerSecond: number;
  driver: DriverStats;
  records: StepRecords;
  /** Gateway /metrics over the step (after - before), non-zero entries only. */
  metricsDelta: Record<string, number>;
  cpu: { gatewayPercent: number | null; sandboxPercent: number | null; benchPercent: number | null; machineBusyPercent: number; cpus: number };
  settleMs: number;
  /** Why the step is not clean; empty when it is. */
  problems: string[];
}

export interface Check {
  name: string;
  value: string;
  pass: boolean;
}

const n0 = (v: number | null | undefined, d = 0): string => (v === null || v === undefined ? '-' : v.toFixed(d));
export const pair = (x: Dist, d = 0): string => `${n0(x.p50, d)} / ${n0(x.p99, d)}`;
const pct = (a: number, b: number, d = 2): string => (b === 0 ? '-' : `${((a / b) * 100).toFixed(d)} %`);

const sumMatching = (m: Record<string, number>, re: RegExp): number => Object.entries(m).filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);

/**
 * What was lost in a step (empty = nothing): every call placed ends with exactly one term code
 * (answered and hung up by the customer, or refused for overload with the refusal's), and every
 * agent is READY afterwards. Refusals for overload are the gateway protecting itself, not a loss.
 */
export function stepProblems(s: Omit<StepResult, 'problems'>, names: { good: string; shed: string }): string[] {
  const p: string[] = [];
  const r = s.records;
  const d = s.driver;
  const m = s.metricsDelta;
  if (d.errorCount) p.push(`${d.errorCount} admin API errors (${d.errors[0] ?? ''})`);
  // The simulator's records decide (a call shed with 503 ends on the agent's side too, with its term code).
  if (r.endedByAgent) p.push(`${r.endedByAgent} calls ended by the agent's side before the customer hung up (not shed)`);
  if (r.missing) p.push(`${r.missing} calls missing from the simulator's records`);
  if (r.notEnded) p.push(`${r.notEnded} calls not ended`);
  if (r.termCodes.none) p.push(`${r.termCodes.none} calls without a term code`);
  if (r.termCodes.several) p.push(`${r.termCodes.several} calls with more than one term code`);
  const other = Object.entries(r.termCodes.byName).filter(([k]) => k !== names.good && k !== names.shed);
  if (other.length) p.push(`unexpected term codes: ${other.map(([k, v]) => `${k} x${v}`).join(', ')}`);
  if (r.notReady.length) p.push(`${r.notReady.length} agents not READY after the step (${r.notReady.slice(0, 3).map((a) => `${a.user} ${a.state}`).join(', ')})`);
  const refused = sumMatching(m, /^vagw_invites_refused_total/);
  const shed = sumMatching(m, /^vagw_overload_shed_total/);
  if (refused !== shed) p.push(`${refused - shed} INVITEs refused by the gateway for other reasons than overload`);
  const answered = m['vagw_calls_answered_total'] ?? 0;
  if (answered + shed !== d.placed) p.push(`gateway answered ${answered} and shed ${shed} of ${d.placed} calls`);
  if (r.shed !== shed) p.push(`${shed} calls shed by the gateway, ${r.shed} with the refusal's term code at the simulator`);
  const endedOther = Object.entries(m).filter(([k, v]) => k.startsWith('vagw_calls_ended_total') && !k.includes('reason="caller-bye"') && !k.includes('reason="overload"') && v !== 0);
  if (endedOther.length) p.push(`gateway ended calls for other reasons: ${endedOther.map(([k, v]) => `${k.replace('vagw_calls_ended_total', '')} ${v}`).join(', ')}`);
  if (m['vagw_wrapup_failures_total']) p.push(`${m['vagw_wrapup_failures_total']} wrap-up failures (agent set NotReady)`);
  return p;
}

/** A step's result from what it measured: its rates over the window, and what it lost. */
export function stepResult(m: Omit<StepResult, 'callsPerSecond' | 'goodput' | 'startedPerSecond' | 'problems'>, names: { good: string; shed: string }): StepResult {
  const seconds = (m.w1 - m.w0) / 1000;
  const perSecond = (n: number): number => (seconds > 0 ? n / seconds : 0);
  const r = m.records;
  const base = { ...m, callsPerSecond: perSecond(r.completedInWindow), goodput: perSecond(r.goodInWindow), startedPerSecond: perSecond(r.startedInWindow) };
  return { ...base, problems: stepProblems(base, names) };
}

function shedBy(m: Record<string, number>): string {
  const by = Object.entries(m).filter(([k]) => k.startsWith('vagw_overload_shed_total')).map(([k, v]) => `${/signal="([^"]+)"/.exec(k)?.[1] ?? '?'} ${v}`);
  return by.length ? `: ${by.join(', ')}` : '';
}

export function stepLine(s: StepResult): string {
  const r = s.records;
  const probesPerCall = s.driver.placed ? s.driver.probes / s.driver.placed : 0;
  const a = s.arrivals;
  const load = a
    ? `${s.overload ? `${s.overload}x ` : ''}offered ${a.offeredPerSecond.toFixed(1).padStart(6)}/s (${a.window.abandoned} abandoned in the window, queue max ${a.atStop.maxWaiting}, wait p50/p99 ${n0(a.atStop.waitMs.p50)}/${n0(a.atStop.waitMs.p99)} ms)`
    : `busy ${String(s.n).padStart(3)}`;
  return [
    `${load}: ${String(s.driver.placed).padStart(5)} calls, goodput ${s.goodput.toFixed(1).padStart(6)} calls/s in ${((s.w1 - s.w0) / 1000).toFixed(1)} s${s.capped ? ' (capped)' : ''}, ${r.shed} shed (503${shedBy(s.metricsDelta)})`,
    `INVITE->Ready p50/p99 ${pair(r.inviteToReady)} ms, hang-up->Ready ${pair(r.hangupToReady)} ms (term code ${pair(r.hangupToTermCode)})`,
    `SIP retransmissions absorbed ${s.metricsDelta['vagw_sip_retransmissions_absorbed_total'] ?? 0}, Readys held at the gate ${s.metricsDelta['vagw_ready_gate_held_total'] ?? 0}`,
    `term codes ${r.termCodes.exactlyOne}/${r.placed} exactly once (${r.termCodes.refusals} refused)`,
    `not READY ${r.notReady.length}${r.readyUnknown ? ` (${r.readyUnknown} calls without a READY in the agent's history)` : ''}`,
    `Ready->next call ${pair(r.readyToNextCall)} ms${a ? '' : `, ${probesPerCall.toFixed(2)} probes/call`}`,
    ...(s.during
      ? [`main loop busy ${n0((s.during['event_loop_utilization']?.mean ?? 0) * 100)} % (max ${n0((s.during['event_loop_utilization']?.max ?? 0) * 100)}), loop delay p99 max ${n0((s.during['event_loop_delay_p99_seconds']?.max ?? 0) * 1000)} ms, shed share max ${n0((s.during['overload_shed_share']?.max ?? 0) * 100)} %, Ready gate limit mean ${n0(s.during['ready_gate_limit']?.mean)} (waiting max ${n0(s.during['ready_gate_waiting']?.max)}), in setup max ${n0(s.during['calls_in_setup']?.max)}, active mean ${n0(s.during['calls_active']?.mean)}`]
      : []),
    `CPU gw ${n0(s.cpu.gatewayPercent)} % sandbox ${n0(s.cpu.sandboxPercent)} % bench ${n0(s.cpu.benchPercent)} % machine ${n0(s.cpu.machineBusyPercent)} % of ${s.cpu.cpus * 100}`,
    ...(r.endedByAgent ? [`failed legs were routed p50/max ${n0(r.failedAfterReady.p50)}/${n0(r.failedAfterReady.max)} ms after the agent turned READY`] : []),
    s.problems.length ? `LOST: ${s.problems.join('; ')}` : 'nothing lost',
  ].join(' | ');
}

export function finalTable(steps: StepResult[], best: StepResult | null): string[] {
  const arrivals = steps.some((s) => s.arrivals);
  const lines = [
    `| ${arrivals ? 'offered calls/s' : 'busy agents'} | goodput calls/s | shed (503) | ${arrivals ? 'abandoned in queue | ' : ''}INVITE->Ready p50 / p99 ms | hang-up->Ready p50 / p99 ms | term codes exactly once | stuck agents | gateway CPU | sandbox CPU | nothing lost |`,
    `|---|---|---|${arrivals ? '---|' : ''}---|---|---|---|---|---|---|`,
  ];
  for (const s of steps) {
    const r = s.records;
    const b = s === best ? '**' : '';
    const load = s.arrivals ? `${s.arrivals.offeredPerSecond.toFixed(1)}${s.overload ? ` (${s.overload}x)` : ''}` : String(s.n);
    const share = best && s.overload ? ` (${((s.goodput / best.goodput) * 100).toFixed(0)} %)` : '';
    lines.push(
      `| ${b}${load}${b} | ${b}${s.goodput.toFixed(1)}${b}${share} | ${r.shed} | ${s.arrivals ? `${s.arrivals.window.abandoned} | ` : ''}${pair(r.inviteToReady)} | ${pair(r.hangupToReady)} | ${r.termCodes.exactlyOne}/${r.placed} (${pct(r.termCodes.exactlyOne, r.placed)}) | ${r.notReady.length} | ` +
        `${n0(s.cpu.gatewayPercent)} % | ${n0(s.cpu.sandboxPercent)} % | ${s.problems.length ? 'no' : 'yes'} |`,
    );
  }
  return lines;
}

/** The peak: the step with the most goodput (with arrivals, among the ramp's steps). */
export function peakStep(steps: StepResult[]): StepResult | null {
  return steps.filter((s) => s.overload === undefined).reduce<StepResult | null>((b, s) => (b === null || s.goodput > b.goodput ? s : b), null);
}

export interface Totals {
  placed: number;
  exactlyOne: number;
  none: number;
  several: number;
  refusals: number;
  stuck: number;
  agents: number;
}

/**
 * The targets, as ratios (machines here differ by 2x in speed): the peak goodput of the ramp, and
 * at 2x and 4x the peak step's load (busy agents) at least `overloadGoodputShare` of it; nothing
 * lost at any step (one term code per call, every agent READY).
 */
export function checks(steps: StepResult[], totals: Totals, targets: { overloadGoodputShare: number }): Check[] {
  const peak = peakStep(steps);
  const arrivals = steps.some((s) => s.arrivals);
  const out: Check[] = [];
  for (const k of [2, 4]) {
    const at = !peak ? undefined : arrivals ? steps.find((s) => s.overload === k) : steps.find((s) => s.n >= k * peak.n);
    const load = (s: StepResult): string => (s.arrivals ? `${s.arrivals.offeredPerSecond.toFixed(1)} calls/s offered` : `${s.n} busy agents`);
    out.push({
      name: `goodput at ${k}x the ${arrivals ? 'sustainable rate (the ramp\'s peak goodput)' : "peak step's load"} >= ${targets.overloadGoodputShare * 100} % of the peak`,
      value: !peak
        ? 'no step'
        : at
          ? `${at.goodput.toFixed(1)} calls/s with ${load(at)} = ${((at.goodput / peak.goodput) * 100).toFixed(1)} % of the peak ${peak.goodput.toFixed(1)} calls/s (${load(peak)}); ${at.records.shed} shed${at.arrivals ? `, ${at.arrivals.window.abandoned} abandoned in the queue` : ''}`
          : `no ${k}x step (peak at ${load(peak)})`,
      pass: !!peak && !!at && at.goodput >= targets.overloadGoodputShare * peak.goodput,
    });
  }
  const lossy = steps.filter((s) => s.problems.length > 0);
  out.push(
    {
      name: '100 % of calls with exactly one term code (simulator records, every call the bench placed)',
      value: `${totals.exactlyOne}/${totals.placed} (${pct(totals.exactlyOne, totals.placed, 3)}); none ${totals.none}, more than one ${totals.several}; ${totals.refusals} term-code requests refused`,
      pass: totals.placed > 0 && totals.exactlyOne === totals.placed,
    },
    {
      name: '0 stuck agents after every step and at the end (simulator: every agent READY)',
      value: `${totals.stuck} of ${totals.agents} not READY at the end; steps with a loss: ${lossy.map((s) => (s.arrivals ? `${s.n}/s` : s.n)).join(', ') || 'none'}`,
      pass: totals.stuck === 0 && lossy.length === 0,
    },
  );
  return out;
}
