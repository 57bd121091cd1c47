// The cost of running as a cluster, and how fast a dead node's agents come back (issue 13).
//
//   npm run bench:cluster      (builds, then runs dist/bench/cluster.js)
//
// Same calls, same driver, one run, one machine, for: one node called directly (no Redis, no
// Kamailio: the reference), then 1, 2 and 3 nodes behind Kamailio sharing the agents through
// Redis. The LiveVox sandbox (simulator + call placer, its own process) routes a customer to each
// of BUSY agents as soon as it has the agent READY, the customer talks TALK_MS and hangs up,
// repeat, for WINDOW_MS. Read from the simulator's records: calls wrapped up with exactly one term
// code per second, none / several, route -> the agent READY again ("INVITE -> Ready") and
// hang-up -> READY again p50/p99. Each figure is printed beside the reference's with the ratio.
//
// Then failover, 3 nodes, calls still running: FAILOVERS times a node is killed with SIGKILL; time
// until each of its agents is owned by a live node and until the new owner has signed it in and
// made it Ready (its /agents); the killed node is started again and takes its share back. Every
// call the platform routed meanwhile must have exactly one term code (a call routed to an agent
// while it changed hands is refused and wrapped up as failed).
//
// Knobs: BENCH_CLUSTER_BUSY (40), BENCH_CLUSTER_WINDOW_MS (15000), BENCH_CLUSTER_FAILOVERS (5);
// diagnostics: BENCH_CLUSTER_NODES=3 runs only these topologies, BENCH_CLUSTER_LOG=info sets the
// nodes' log level (a call left without a term code is reported with its nodes' log lines).
//
// This machine has 2 cores for everything: the nodes, Kamailio, Redis, the sandbox and the driver
// share them, so more nodes here add coordination and contention, not capacity.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClient } from './calls/http.js';
import { guardRun, runMain } from './media/procs.js';
import { writeResults } from './results.js';
import { AGENTS, agentIds, startTopology, type Topology } from './cluster/topology.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUSY = Number(process.env['BENCH_CLUSTER_BUSY'] ?? 40);
const TALK_MS = 400;
const WINDOW_MS = Number(process.env['BENCH_CLUSTER_WINDOW_MS'] ?? 15_000);
const FAILOVERS = Number(process.env['BENCH_CLUSTER_FAILOVERS'] ?? 5);
const LEASE_TTL_MS = 2000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Lv = { agents: { user: string; state: string; history: { state: string; at: number }[] }[]; calls: { transactionId: string; agentUser: string; startedAt: number; endedAt?: number; endedBy?: string; status: string; termCodes: { at: number; termCodeName: string }[] }[] };

const pct = (xs: number[], q: number): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function simState(sim: HttpClient): Promise<Lv> {
  return JSON.parse((await sim.request('GET', '/__sim/state')).text) as Lv;
}

async function waitReady(sim: HttpClient, what: string, ms = 30_000): Promise<void> {
  for (const t0 = Date.now(); ; await sleep(200)) {
    if ((await simState(sim)).agents.filter((a) => a.state === 'READY').length === AGENTS) return;
    if (Date.now() - t0 > ms) throw new Error(`${what}: agents not READY within ${ms / 1000} s`);
  }
}

/** The driver: BUSY agents kept on calls until `stop()`; the transaction ids it routed. */
function drive(sim: HttpClient, prefix: string) {
  let stopped = false;
  let seq = 0;
  const routed: string[] = [];
  let errors = 0;
  const loop = async (agent: string): Promise<void> => {
    while (!stopped) {
      const id = `${prefix}-${++seq}`;
      const r = await sim.request('POST', '/__sim/calls', { agent, call: { transactionId: id, phoneNumber: '3125550123' } }).catch(() => ({ status: 0, text: '' }));
      if (r.status !== 201) {
        if (r.status !== 409) errors++;
        await sleep(10);
        continue;
      }
      routed.push(id);
      await sleep(TALK_MS);
      if ((await sim.request('POST', '/__sim/calls/end', { transactionId: id, by: 'customer' }).catch(() => ({ status: 0 }))).status !== 200) errors++;
    }
  };
  const loops = agentIds.slice(0, BUSY).map(loop);
  return {
    routed,
    errors: () => errors,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Per routed call: term codes and timings, from the simulator's records (its clock). */
function read(s: Lv, routed: string[]) {
  const ids = new Set(routed);
  const mine = s.calls.filter((c) => ids.has(c.transactionId));
  const readyAfter = (c: Lv['calls'][number]): number | undefined => s.agents.find((a) => a.user === c.agentUser)?.history.find((h) => h.state === 'READY' && h.at >= c.endedAt!)?.at;
  const ended = mine.filter((c) => c.endedAt !== undefined);
  const readyAt = ended.map((c) => [c, readyAfter(c)] as const).filter((x): x is readonly [Lv['calls'][number], number] => x[1] !== undefined);
  return {
    routed: mine.length,
    exactlyOne: mine.filter((c) => c.termCodes.length === 1).length,
    none: mine.filter((c) => c.termCodes.length === 0).length,
    several: mine.filter((c) => c.termCodes.length > 1).length,
    failed: mine.filter((c) => c.termCodes[0]?.termCodeName === 'AI Failure').length,
    // For a failure report: calls without a term code, with where their agent is now.
    noneSample: mine.filter((c) => c.termCodes.length === 0).slice(0, 5).map((c) => ({ id: c.transactionId, agent: c.agentUser, status: c.status, startedAt: c.startedAt, endedAt: c.endedAt, agentNow: s.agents.find((a) => a.user === c.agentUser)?.state })),
    notEnded: mine.length - ended.length,
    inviteToReadyP50: pct(readyAt.map(([c, at]) => at - c.startedAt - TALK_MS), 0.5),
    inviteToReadyP99: pct(readyAt.map(([c, at]) => at - c.startedAt - TALK_MS), 0.99),
    hangupToReadyP50: pct(readyAt.map(([c, at]) => at - c.endedAt!), 0.5),
    hangupToReadyP99: pct(readyAt.map(([c, at]) => at - c.endedAt!), 0.99),
  };
}

/**
 * Wait until every routed call has ended and has its term code, then read. Bounded by 90 s: a
 * call whose INVITE never reached a node is found by its owner's audit (every 60 s, checked every 15 s).
 */
async function settle(sim: HttpClient, routed: string[]): Promise<ReturnType<typeof read>> {
  let r = read(await simState(sim), routed);
  for (const t0 = Date.now(); Date.now() - t0 < 90_000 && (r.none > 0 || r.notEnded > 0); await sleep(500)) r = read(await simState(sim), routed);
  return r;
}

async function throughput(t: Topology): Promise<Record<string, unknown>> {
  const sim = new HttpClient('127.0.0.1', t.simPort);
  try {
    await waitReady(sim, t.label);
    const d = drive(sim, `bc${t.nodes}${t.kamailio ? 'k' : 'd'}`);
    const from = Date.now();
    await sleep(WINDOW_MS);
    await d.stop();
    const windowS = (Date.now() - from) / 1000;
    const r = await settle(sim, d.routed);
    return { topology: t.label, nodes: t.nodes, windowS, callsPerSecond: Math.round((r.exactlyOne / windowS) * 10) / 10, ...r, errors: d.errors() };
  } finally {
    sim.close();
  }
}

interface Owned {
  id: string;
  elsewhere?: boolean;
  vendorPhase?: string;
}

async function agentsOf(t: Topology, i: number): Promise<Owned[]> {
  if (!t.procs[i]) return [];
  try {
    const r = (await (await fetch(`http://127.0.0.1:${t.httpPorts[i]}/agents?scope=local`, { signal: AbortSignal.timeout(2000) })).json()) as { agents: Owned[] };
    return r.agents.filter((a) => !a.elsewhere);
  } catch {
    return [];
  }
}

async function failovers(t: Topology): Promise<Record<string, unknown>> {
  const sim = new HttpClient('127.0.0.1', t.simPort);
  const owned: number[] = [];
  const ready: number[] = [];
  const back: number[] = [];
  try {
    await waitReady(sim, 'failover start');
    const d = drive(sim, 'bcf');
    for (let k = 0; k < FAILOVERS; k++) {
      const victim = k % t.nodes;
      const his = (await agentsOf(t, victim)).map((a) => a.id);
      const t0 = Date.now();
      await t.kill(victim);
      let ownedAt = 0;
      for (;;) {
        const live = (await Promise.all(t.procs.map((_, i) => (i === victim ? [] : agentsOf(t, i))))).flat();
        const by = new Map(live.map((a) => [a.id, a]));
        if (!ownedAt && his.every((a) => by.has(a))) ownedAt = Date.now();
        if (ownedAt && his.every((a) => by.get(a)?.vendorPhase === 'ready')) break;
        if (Date.now() - t0 > 60_000) throw new Error(`failover ${k + 1}: node ${victim}'s agents not Ready elsewhere within 60 s`);
        if (process.env['BENCH_CLUSTER_LOG'] && Date.now() - t0 > 5000 && Date.now() - t0 < 5060) console.log(`  kill ${k + 1}: still not Ready after 5 s: ${his.filter((a) => by.get(a)?.vendorPhase !== 'ready').map((a) => `${a} ${by.get(a)?.vendorPhase}`).join(', ')}`);
        await sleep(50);
      }
      owned.push(ownedAt - t0);
      ready.push(Date.now() - t0);
      // The node comes back and takes a share again (once the agents' calls are over).
      const t1 = Date.now();
      await t.start(victim);
      while ((await agentsOf(t, victim)).filter((a) => a.vendorPhase === 'ready').length === 0) {
        if (Date.now() - t1 > 60_000) throw new Error(`failover ${k + 1}: node ${victim} took no agent back within 60 s`);
        await sleep(100);
      }
      back.push(Date.now() - t1);
      console.log(`  kill ${k + 1}: node ${victim} (${his.length} agents) owned again after ${owned[k]} ms, Ready at the new owner after ${ready[k]} ms; restarted, serving again after ${back[k]} ms`);
    }
    await d.stop();
    const r = await settle(sim, d.routed);
    await waitReady(sim, 'after the failovers').catch(() => undefined);
    const notReady = (await simState(sim)).agents.filter((a) => a.state !== 'READY').map((a) => `${a.user} ${a.state}`);
    return { kills: FAILOVERS, leaseTtlMs: LEASE_TTL_MS, ownedAgainMs: owned, readyAgainMs: ready, rejoinMs: back, ownedP50: pct(owned, 0.5), ownedMax: Math.max(...owned), readyP50: pct(ready, 0.5), readyMax: Math.max(...ready), calls: r, notReady, errors: d.errors() };
  } finally {
    sim.close();
  }
}

/** Calls left without a term code: which, and what the nodes logged about their agents. */
function report(t: Topology, sample: { agent: string }[]): void {
  console.log(`  calls without a term code (first ${sample.length}): ${JSON.stringify(sample)}`);
  const agents = new Set(sample.map((c) => c.agent));
  for (const [i, p] of [...t.procs, ...t.dead].entries()) {
    const lines = p ? (t.logs.get(p) ?? []) : [];
    for (const l of lines) if ([...agents].some((a) => l.includes(`"${a}"`))) console.log(`  node ${i < t.nodes ? i : `killed #${i - t.nodes + 1}`}: ${l.slice(0, 300)}`);
  }
}

async function main(): Promise<number> {
  guardRun('bench:cluster', 12 * 60_000, async () => undefined);
  const rows: Record<string, unknown>[] = [];
  let failover: Record<string, unknown> | undefined;
  // Diagnostics: BENCH_CLUSTER_NODES=2,3 runs only these (the reference is then the first of them).
  const only = process.env['BENCH_CLUSTER_NODES']?.split(',').map(Number);
  for (const nodes of [0, 1, 2, 3].filter((n) => !only || only.includes(n))) {
    const t = await startTopology(ROOT, nodes, LEASE_TTL_MS);
    try {
      const r = await throughput(t);
      rows.push(r);
      const ref = rows[0]!;
      const ratio = (k: string): string => ((r[k] as number) / Math.max(1, ref[k] as number)).toFixed(2);
      console.log(`${String(r['topology']).padEnd(28)} ${String(r['callsPerSecond']).padStart(6)} calls/s (x${ratio('callsPerSecond')}) | INVITE -> Ready p50/p99 ${r['inviteToReadyP50']}/${r['inviteToReadyP99']} ms (p99 x${ratio('inviteToReadyP99')}) | hang-up -> Ready p99 ${r['hangupToReadyP99']} ms | term code once ${r['exactlyOne']}, none ${r['none']}, several ${r['several']} | errors ${r['errors']}`);
      if ((r['none'] as number) > 0) report(t, r['noneSample'] as { agent: string }[]);
      if (nodes === 3 && FAILOVERS > 0) {
        failover = await failovers(t);
        const c = failover['calls'] as ReturnType<typeof read>;
        if (c.none > 0) report(t, c.noneSample);
        console.log(`failover x${FAILOVERS} (lease TTL ${LEASE_TTL_MS} ms): owned again p50/max ${failover['ownedP50']}/${failover['ownedMax']} ms, Ready at the new owner p50/max ${failover['readyP50']}/${failover['readyMax']} ms | calls routed meanwhile ${c.routed}: term code once ${c.exactlyOne} (failed ${c.failed}), none ${c.none}, several ${c.several} | agents not READY at the end ${(failover['notReady'] as string[]).length}`);
      }
    } finally {
      await t.close();
    }
  }
  console.log(`(${BUSY} busy agents of ${AGENTS}, talk ${TALK_MS} ms, ${WINDOW_MS / 1000} s each; ratios against the single node without Kamailio, same machine, same run)`);
  console.log(`results written to ${await writeResults('cluster', new Date(), { busy: BUSY, talkMs: TALK_MS, windowMs: WINDOW_MS, throughput: rows, failover })}`);
  const calls = [...rows, ...(failover ? [failover['calls'] as Record<string, unknown>] : [])];
  return calls.every((r) => r['none'] === 0 && r['several'] === 0) ? 0 : 1;
}

runMain('bench:cluster', main);
