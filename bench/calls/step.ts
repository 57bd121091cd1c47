/**
 * What both kinds of calls-bench step share: the processes, the simulator's records read back, the
 * settle after a step (every call ended and wrapped up), /metrics deltas and CPU shares.
 */
import { cpus } from 'node:os';
import type { Snapshot } from './analyze.js';
import { settled } from './analyze.js';
import { readMetrics, type HttpClient } from './http.js';
import { clockTicks, cpuTicks, machineCpu, type Gateway } from '../media/procs.js';

export interface Ctx {
  gateway: Gateway;
  sandbox: Gateway;
  gw: HttpClient;
  sim: HttpClient;
}

const CLK = clockTicks();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function assertGatewayAlive(c: Ctx): void {
  for (const [name, p] of [['gateway', c.gateway], ['sandbox', c.sandbox]] as const) {
    const ch = p.child;
    if (ch.exitCode !== null || ch.signalCode !== null) throw new Error(`the ${name} exited (${ch.exitCode ?? ch.signalCode}) mid-run\n${p.out.tail.trim()}`);
  }
}

/** The simulator's records; with a prefix, only the calls whose transaction id starts with it. */
export async function snapshot(c: Ctx, callPrefix?: string): Promise<Snapshot> {
  return c.sim.json<Snapshot>('GET', callPrefix ? `/__sim/state?callPrefix=${encodeURIComponent(callPrefix)}` : '/__sim/state');
}

export function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    // gauges are reported as their value after the step
    const gauge = /^vagw_(calls_active|agents|rtp_port_pairs|media_sessions|sip_transactions_active|wrapup_steps_pending|draining)\b/.test(k);
    const v = gauge ? (b[k] ?? 0) : (b[k] ?? 0) - (a[k] ?? 0);
    if (v !== 0) out[k] = v;
  }
  return out;
}

/**
 * Wait until no call is up and no wrap-up step is pending, then until the simulator's records agree
 * (`tids`: the step's calls; with `callPrefix`, every call of the prefix the snapshot returns).
 */
export async function settle(c: Ctx, timeoutMs: number, calls: { tids?: Set<string>; callPrefix?: string }): Promise<{ snap: Snapshot; ms: number }> {
  const t0 = Date.now();
  const until = t0 + timeoutMs;
  for (;;) {
    assertGatewayAlive(c);
    const m = await readMetrics(c.gw);
    if ((m['vagw_calls_active'] ?? 0) === 0 && (m['vagw_wrapup_steps_pending'] ?? 0) === 0) break;
    if (Date.now() > until) break;
    await sleep(100);
  }
  for (;;) {
    const snap = await snapshot(c, calls.callPrefix);
    const tids = calls.tids ?? new Set(snap.calls.map((x) => x.transactionId));
    if (settled(snap, tids) || Date.now() > until) return { snap, ms: Date.now() - t0 };
    await sleep(500);
  }
}

/** CPU ticks of the gateway, this process and the sandbox, and the machine's, at one moment. */
export function cpuMark(c: Ctx): { ticks: (number | null)[]; machine: { busy: number; total: number } } {
  return { ticks: [cpuTicks(c.gateway.child.pid), cpuTicks(process.pid), cpuTicks(c.sandbox.child.pid)], machine: machineCpu() };
}

export interface CpuShares {
  gatewayPercent: number | null;
  sandboxPercent: number | null;
  benchPercent: number | null;
  machineBusyPercent: number;
  cpus: number;
}

/** Each process's CPU over a window, in % of one CPU. */
export function cpuShares(a: ReturnType<typeof cpuMark>, b: ReturnType<typeof cpuMark>, seconds: number): CpuShares {
  const pct = (x: number | null | undefined, y: number | null | undefined): number | null =>
    x === null || x === undefined || y === null || y === undefined || seconds <= 0 ? null : ((y - x) / CLK / seconds) * 100;
  return {
    gatewayPercent: pct(a.ticks[0], b.ticks[0]),
    sandboxPercent: pct(a.ticks[2], b.ticks[2]),
    benchPercent: pct(a.ticks[1], b.ticks[1]),
    machineBusyPercent: ((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * 100 * cpus().length,
    cpus: cpus().length,
  };
}
