/** The calls bench's step results, the line per step, the final table and the target checks. */
import type { Dist, StepRecords } from './analyze.js';
import type { DriverStats } from './driver.js';

export interface StepResult {
  /** Busy agents (concurrent call loops). */
  n: number;
  warmupMs: number;
  /** Measured window, bench clock (epoch ms). */
  w0: number;
  w1: number;
  capped: boolean;
  /** Agents READY again inside the window, per second. */
  callsPerSecond: number;
  /** Calls the simulator routed inside the window, per second. */
  startedPerSecond: number;
  driver: DriverStats;
  records: StepRecords;
  /** Gateway /metrics over the step (after - before), non-zero entries only. */
  metricsDelta: Record<string, number>;
  cpu: { gatewayPercent: number | null; benchPercent: number | null; machineBusyPercent: number; cpus: number };
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

/** Why a step is not clean (empty = clean): every call placed, answered, hung up by the customer, one term code, every agent READY. */
export function stepProblems(s: Omit<StepResult, 'problems'>): string[] {
  const p: string[] = [];
  const r = s.records;
  const d = s.driver;
  const m = s.metricsDelta;
  if (d.errorCount) p.push(`${d.errorCount} admin API errors (${d.errors[0] ?? ''})`);
  if (d.endedByAgent || r.endedByAgent) p.push(`${Math.max(d.endedByAgent, r.endedByAgent)} calls ended by the agent's side before the customer hung up`);
  if (r.missing) p.push(`${r.missing} calls missing from the simulator's records`);
  if (r.notEnded) p.push(`${r.notEnded} calls not ended`);
  if (r.termCodes.none) p.push(`${r.termCodes.none} calls without a term code`);
  if (r.termCodes.several) p.push(`${r.termCodes.several} calls with more than one term code`);
  const other = Object.entries(r.termCodes.byName).filter(([k]) => k !== 'Caller Hung Up');
  if (other.length) p.push(`unexpected term codes: ${other.map(([k, v]) => `${k} x${v}`).join(', ')}`);
  if (r.notReady.length) p.push(`${r.notReady.length} agents not READY after the step (${r.notReady.slice(0, 3).map((a) => `${a.user} ${a.state}`).join(', ')})`);
  const refused = sumMatching(m, /^vagw_invites_refused_total/);
  if (refused) p.push(`${refused} INVITEs refused by the gateway`);
  const answered = m['vagw_calls_answered_total'] ?? 0;
  if (answered !== d.placed) p.push(`gateway answered ${answered} of ${d.placed} calls`);
  const endedOther = Object.entries(m).filter(([k, v]) => k.startsWith('vagw_calls_ended_total') && !k.includes('reason="caller-bye"') && v !== 0);
  if (endedOther.length) p.push(`gateway ended calls for other reasons: ${endedOther.map(([k, v]) => `${k.replace('vagw_calls_ended_total', '')} ${v}`).join(', ')}`);
  if (m['vagw_wrapup_failures_total']) p.push(`${m['vagw_wrapup_failures_total']} wrap-up failures (agent set NotReady)`);
  return p;
}

export function stepLine(s: StepResult): string {
  const r = s.records;
  const probesPerCall = s.driver.placed ? s.driver.probes / s.driver.placed : 0;
  return [
    `busy ${String(s.n).padStart(3)}: ${String(s.driver.placed).padStart(5)} calls, ${s.callsPerSecond.toFixed(1).padStart(6)} calls/s Ready again in ${((s.w1 - s.w0) / 1000).toFixed(1)} s${s.capped ? ' (capped)' : ''}`,
    `INVITE->Ready p50/p99 ${pair(r.inviteToReady)} ms, hang-up->Ready ${pair(r.hangupToReady)} ms (term code ${pair(r.hangupToTermCode)})`,
    `term codes ${r.termCodes.exactlyOne}/${r.placed} exactly once (${r.termCodes.refusals} refused)`,
    `not READY ${r.notReady.length}${r.readyUnknown ? ` (${r.readyUnknown} calls without a READY in the agent's history)` : ''}`,
    `Ready->next call ${pair(r.readyToNextCall)} ms, ${probesPerCall.toFixed(2)} probes/call`,
    `CPU gw ${n0(s.cpu.gatewayPercent)} % bench ${n0(s.cpu.benchPercent)} % machine ${n0(s.cpu.machineBusyPercent)} % of ${s.cpu.cpus * 100}`,
    ...(r.endedByAgent ? [`failed legs were routed p50/max ${n0(r.failedAfterReady.p50)}/${n0(r.failedAfterReady.max)} ms after the agent turned READY`] : []),
    s.problems.length ? `NOT CLEAN: ${s.problems.join('; ')}` : 'clean',
  ].join(' | ');
}

export function finalTable(steps: StepResult[], bestN: number | null): string[] {
  const lines = [
    '| busy agents | calls/s (Ready again) | INVITE->Ready p50 / p99 ms | hang-up->Ready p50 / p99 ms | term codes exactly once | stuck agents | gateway CPU | machine busy | clean |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of steps) {
    const r = s.records;
    const b = s.n === bestN ? '**' : '';
    lines.push(
      `| ${b}${s.n}${b} | ${b}${s.callsPerSecond.toFixed(1)}${b} | ${pair(r.inviteToReady)} | ${pair(r.hangupToReady)} | ${r.termCodes.exactlyOne}/${r.placed} (${pct(r.termCodes.exactlyOne, r.placed)}) | ${r.notReady.length} | ` +
        `${n0(s.cpu.gatewayPercent)} % | ${n0(s.cpu.machineBusyPercent)} % of ${s.cpu.cpus * 100} | ${s.problems.length ? 'no' : 'yes'} |`,
    );
  }
  return lines;
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

export function checks(best: StepResult | null, totals: Totals, targets: { minCallsPerSecond: number }): Check[] {
  return [
    {
      name: `>= ${targets.minCallsPerSecond} calls/s through the whole pipeline, in a clean step`,
      value: best ? `${best.callsPerSecond.toFixed(1)} calls/s with ${best.n} busy agents (INVITE->Ready p99 ${n0(best.records.inviteToReady.p99)} ms)` : 'no clean step',
      pass: best !== null && best.callsPerSecond >= targets.minCallsPerSecond,
    },
    {
      name: '100 % of calls with exactly one term code (simulator records, every call the bench placed)',
      value: `${totals.exactlyOne}/${totals.placed} (${pct(totals.exactlyOne, totals.placed, 3)}); none ${totals.none}, more than one ${totals.several}; ${totals.refusals} term-code requests refused`,
      pass: totals.placed > 0 && totals.exactlyOne === totals.placed,
    },
    {
      name: '0 stuck agents at the end (simulator: every agent READY)',
      value: `${totals.stuck} of ${totals.agents} not READY`,
      pass: totals.stuck === 0,
    },
  ];
}
