/** Figures of one media-bench step, the per-step line, the final table and the target checks. */
import type { Summary } from './hist.js';
import type { EngineWindow, GatewayInternal, GeneratorWindow, HangupResult, PlaceResult } from './ipc.js';

export interface TargetRun {
  target: 'gateway' | 'relay';
  n: number;
  place: PlaceResult;
  gen: GeneratorWindow;
  engine: EngineWindow;
  /** Sent / asked by the 20 ms schedule. */
  achieved: number;
  /** CPU of the target process over the window, % of one core; and per call. */
  cpuPercent: number | null;
  cpuPerCall: number | null;
  generatorCpuPercent: number | null;
  engineCpuPercent: number | null;
  machineBusyPercent: number;
  /** RSS with the N calls up (end of the window), and 1 s after they were torn down. */
  rssKb: number | null;
  rssAfterKb: number | null;
  memPerCallKb: number | null;
  hangup: HangupResult | null;
  metrics?: Record<string, number>;
  /** The media workers' own figures over the window (opt-in gateway entry only). */
  internal?: GatewayInternal;
  gatewayLogLines?: string[];
}

export interface Step { n: number; gateway: TargetRun; relay: TargetRun | null; stop: string | null }
export interface Check { name: string; value: string; pass: boolean }

const ms = (v: number | null | undefined, d = 2): string => (v === null || v === undefined ? '-' : v.toFixed(d));
const pair = (s: Summary, d = 2): string => `${ms(s.p50, d)}/${ms(s.p99, d)}`;
const kb = (v: number | null): string => (v === null ? '-' : v.toFixed(1));
const share = (s: Summary): string => (s.count ? `${((s.over / s.count) * 100).toFixed(2)}%` : '-');
const pct = (v: number | null, d = 2): string => (v === null ? '-' : `${v.toFixed(d)}%`);

function ratioText(a: number | null, b: number | null): string {
  const x = ratio(a, b);
  return x === null ? '-' : `${x.toFixed(1)}x`;
}

export function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

/** A step is clean when no frame was lost or late, the generator kept its rate, and every call lived. */
export function clean(r: TargetRun): boolean {
  return r.gen.lost === 0 && r.gen.late === 0 && r.achieved >= 0.95 && r.place.failed === 0 && r.gen.endedByGateway === 0;
}

export function stepLines(s: Step): string[] {
  const g = s.gateway;
  const r = s.relay;
  const x = ratio(g.cpuPerCall, r?.cpuPerCall ?? null);
  const lines = [
    `N=${String(s.n).padEnd(4)} lost ${g.gen.lost}/${g.gen.counted} late ${g.gen.late} sent ${(g.achieved * 100).toFixed(1)}%` +
      ` | jitter p50/p99 ${pair(g.gen.jitter)} ms (relay ${r ? pair(r.gen.jitter) : '-'}) | internal pacer ${g.internal ? `${pair(g.internal.pacer)} ms` : 'n/a'}` +
      ` | engine-path p50/p99 gw ${pair(g.engine.latency)} ms, relay ${r ? pair(r.engine.latency) : '-'} ms` +
      ` | CPU/call gw ${pct(g.cpuPerCall, 3)} relay ${pct(r?.cpuPerCall ?? null, 3)} x${ms(x, 1)}` +
      ` | mem/call ${kb(g.memPerCallKb)} KB (relay ${kb(r?.memPerCallKb ?? null)})`,
    `        rtt p50/p99 gw ${pair(g.gen.rtt, 1)} ms relay ${r ? pair(r.gen.rtt, 1) : '-'} ms; relay lost ${r ? `${r.gen.lost}/${r.gen.counted}` : '-'} late ${r?.gen.late ?? '-'};` +
      ` gw CPU ${pct(g.cpuPercent, 0)} relay ${pct(r?.cpuPercent ?? null, 0)}; generator ${pct(g.generatorCpuPercent, 0)} (send lag p99 ${ms(g.gen.sendLate.p99)} ms, loop delay p99/max ${ms(g.gen.loopDelay.p99, 1)}/${ms(g.gen.loopDelay.max, 1)} ms),` +
      ` engine ${pct(g.engineCpuPercent, 0)} (loop delay p99/max ${ms(g.engine.loopDelay.p99, 1)}/${ms(g.engine.loopDelay.max, 1)} ms), machine ${pct(g.machineBusyPercent, 0)} of 200%;`,
    `        jitter > 2 ms: gw ${share(g.gen.jitter)} relay ${r ? share(r.gen.jitter) : '-'}, max gw ${ms(g.gen.jitter.max)} ms; engine-path max gw ${ms(g.engine.latency.max)} ms;` +
      ` gw RSS ${g.rssKb ?? '-'} kB with calls, ${g.rssAfterKb ?? '-'} kB after teardown` +
      (g.internal ? `; pacer ticks > 2 ms late ${share(g.internal.pacer)}, max ${ms(g.internal.pacer.max)} ms, heap used kB workers ${g.internal.workerHeapUsedKb.join('+')} main ${g.internal.mainHeapUsedKb}` : ''),
  ];
  const notes: string[] = [];
  if (g.place.failed) notes.push(`${g.place.failed} calls not placed (${g.place.failures.slice(0, 3).join('; ')})`);
  if (g.gen.endedByGateway) notes.push(`${g.gen.endedByGateway} calls ended by the gateway during the window`);
  if (g.hangup?.endedByGateway) notes.push(`gateway BYEs: ${JSON.stringify(g.hangup.gatewayByeReasons)}`);
  if (g.hangup?.byeFailed) notes.push(`${g.hangup.byeFailed} BYEs unanswered`);
  if (g.gen.callsWithLoss) notes.push(`loss on ${g.gen.callsWithLoss} of ${g.gen.calls} calls`);
  if (g.gen.sendErrors || g.gen.skippedSlots) notes.push(`generator: ${g.gen.sendErrors} send errors, ${g.gen.skippedSlots} skipped slots`);
  const restarts = g.metrics?.['vagw_media_worker_restarts_total'] ?? 0;
  if (restarts) notes.push(`${restarts} media worker restarts so far (gateway /metrics)`);
  if (g.gatewayLogLines?.length) notes.push(`gateway logged ${g.gatewayLogLines.length} warn/error lines, first: ${g.gatewayLogLines[0]}`);
  if (s.stop) notes.push(`stop: ${s.stop}`);
  for (const n of notes) lines.push(`        ! ${n}`);
  return lines;
}

export function finalTable(best: Step, bestN: number | null): string[] {
  const g = best.gateway;
  const r = best.relay;
  const rows: string[][] = [
    ['', 'gateway', 'relay (reference)', 'gateway / relay'],
    ['most concurrent calls, 0 lost / 0 late', bestN === null ? `none (figures at N=${best.n})` : String(bestN), r ? `${r.gen.lost === 0 && r.gen.late === 0 ? 'clean' : 'NOT clean'} at N=${r.n}` : '-', ''],
    ['CPU per call (% of one core)', pct(g.cpuPerCall, 3), pct(r?.cpuPerCall ?? null, 3), ratioText(g.cpuPerCall, r?.cpuPerCall ?? null)],
    ['outbound pacing jitter p50 / p99', `${pair(g.gen.jitter)} ms`, r ? `${pair(r.gen.jitter)} ms (unpaced)` : '-', ''],
    ['added latency RTP -> engine frame p50 / p99', `${pair(g.engine.latency)} ms`, r ? `${pair(r.engine.latency)} ms` : '-', ''],
    ['round trip p50 / p99 (incl. pacing wait)', `${pair(g.gen.rtt, 1)} ms`, r ? `${pair(r.gen.rtt, 1)} ms` : '-', ''],
    ['memory per call (RSS growth / N)', `${kb(g.memPerCallKb)} KB`, r ? `${kb(r.memPerCallKb)} KB` : '-', ratioText(g.memPerCallKb, r?.memPerCallKb ?? null)],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ').trimEnd());
}

export function checks(best: Step, bestN: number | null, stoppedBy: string | null, t: { minCalls: number; maxJitterP99Ms: number; maxAddedP99Ms: number; maxKbPerCall: number }): Check[] {
  const g = best.gateway;
  const at = `at N=${best.n}`;
  return [
    { name: `>= ${t.minCalls} concurrent calls with zero loss`, value: `${bestN === null ? 'none clean' : String(bestN)}${stoppedBy ? ` (steps stopped: ${stoppedBy}; larger N not measured)` : ''}`, pass: bestN !== null && bestN >= t.minCalls },
    { name: `pacing jitter p99 < ${t.maxJitterP99Ms} ms`, value: `${ms(g.gen.jitter.p99)} ms ${at}`, pass: g.gen.jitter.p99 !== null && g.gen.jitter.p99 < t.maxJitterP99Ms },
    { name: `added latency p99 < ${t.maxAddedP99Ms} ms`, value: `${ms(g.engine.latency.p99)} ms ${at} (generator send -> engine, an upper bound)`,
      pass: g.engine.latency.p99 !== null && g.engine.latency.p99 < t.maxAddedP99Ms },
    { name: `< ${t.maxKbPerCall} KB per call`, value: `${g.memPerCallKb === null ? '-' : g.memPerCallKb.toFixed(1)} KB ${at}`,
      pass: g.memPerCallKb !== null && g.memPerCallKb < t.maxKbPerCall },
  ];
}
