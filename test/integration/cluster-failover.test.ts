/**
 * Three gateway nodes behind Kamailio with agent ownership in Redis, driving the LiveVox sandbox
 * (its own process; its placer calls Kamailio like a carrier): every agent is signed in and READY
 * by exactly one node; each customer call reaches the node that owns the agent and is wrapped up
 * once; the REST API of any node shows and acts on the whole cluster; one node killed with
 * SIGKILL: within the lease TTL the others own its agents, sign them in again and take their
 * calls through Kamailio, each still wrapped up once; it comes back without dropping a call;
 * Redis restarted mid-run loses nothing; a node killed with wrap-ups pending has them replayed
 * by the new owners, exactly once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio, type TestKamailio } from '../helpers/kamailio.js';
import { admin, ready, run, stop, waitUntil, type Proc } from '../helpers/processes.js';
import { ownerOf } from '../../src/cluster/node.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const KAM = 25950;
const NODE_SIP = [25951, 25952, 25953];
const AGENTS = Array.from({ length: 9 }, (_, i) => `cf-0${i + 1}`);
let redis: TestRedis;
let kamailio: TestKamailio;
const kamOut = (): string[] => kamailio.out;
let sandbox: Proc;
const nodes: (Proc | undefined)[] = [];
const httpPorts: number[] = [];
let simPort: number;
let dir: string;
let sim: ReturnType<typeof admin>;
let seq = 0;
let store: Redis;

function config(role: 'sandbox' | number): string {
  const node = role === 'sandbox' ? undefined : role;
  return `gateway: { name: cf-${role}, http: { host: 127.0.0.1, port: ${node === undefined ? 0 : httpPorts[node]} }, logLevel: ${process.env['VAGW_TEST_LOG'] ?? 'warn'}, drainTimeoutSeconds: 1 }
media: { host: 127.0.0.1, rtpPortMin: ${node === undefined ? 52900 : 52600 + node * 100}, rtpPortMax: ${node === undefined ? 52999 : 52699 + node * 100}, workers: 0, rtpTimeoutSeconds: 0 }
livevox: { baseUrl: ${node === undefined ? 'sandbox' : `"http://127.0.0.1:${simPort}"`}, accessToken: cf-token, clientName: cf, sandboxPort: ${simPort}, timeoutMs: 2000 }
${node === undefined ? '' : `cluster: { redis: "${redis.url}", name: cf, nodeId: node-${node}, sipAddress: "127.0.0.1:${NODE_SIP[node]}", leaseTtlMs: 2000 }\n`}dataDir: ${JSON.stringify(path.join(dir, `data-${role}`))}
profiles:
  - name: cf
    listen: { host: 127.0.0.1, port: ${node === undefined ? KAM : NODE_SIP[node]}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    engine: builtin:echo
    contactCenter: { vendor: livevox, serviceId: "1001", password: cf, screenPopWaitMs: 100, wrapUp: { maxAttempts: 8, retryMs: 50 } }
    agents:
      - { range: { from: "+18990000001", count: ${AGENTS.length} }, idPrefix: cf-, idWidth: 2 }
`;
}

async function agentsOf(node: number): Promise<string[]> {
  const r = (await (await fetch(`http://127.0.0.1:${httpPorts[node]}/agents?scope=local`)).json()) as { agents: { id: string; elsewhere?: boolean }[] };
  return r.agents.filter((a) => !a.elsewhere).map((a) => a.id);
}

/** Agent -> the live nodes that say they own it (exactly one each, in a healthy cluster). */
async function owners(): Promise<Map<string, number[]>> {
  const m = new Map<string, number[]>(AGENTS.map((a) => [a, []]));
  for (const [i, n] of nodes.entries()) {
    if (!n || n.child.exitCode !== null || n.child.signalCode !== null) continue;
    for (const a of await agentsOf(i)) m.get(a)?.push(i);
  }
  return m;
}

/** Every agent owned by exactly one of the live nodes, each of `sharing` owning at least one. */
async function splitOver(sharing: number[]): Promise<boolean> {
  const m = await owners();
  return [...m.values()].every((o) => o.length === 1) && sharing.every((i) => [...m.values()].some((o) => o[0] === i));
}

/** Every agent owned by the node rendezvous hashing gives it among `live` (the rebalance is over). */
async function settledOver(live: number[]): Promise<boolean> {
  const m = await owners();
  return AGENTS.every((a) => {
    const o = m.get(a)!;
    return o.length === 1 && `node-${o[0]}` === ownerOf(a, live.map((i) => `node-${i}`));
  });
}

const allReady = (timeoutMs: number, what: string) => waitUntil(async () => (await sim.state()).agents.every((a) => a.state === 'READY'), timeoutMs, what);

/** A customer call to each agent, hung up after 300 ms: the transaction ids. */
async function callEach(agents: string[]): Promise<string[]> {
  const tids = await startEach(agents);
  await new Promise((res) => setTimeout(res, 300));
  for (const t of tids) await sim.endCall(t);
  return tids;
}

/** A customer call routed to each agent (left up): the transaction ids. */
async function startEach(agents: string[]): Promise<string[]> {
  const tids: string[] = [];
  for (const a of agents) {
    const tid = `55${String(++seq).padStart(10, '0')}`;
    let r = await sim.startCall(a, tid);
    // The agent may be between a call's Ready and the platform's view of it: try again briefly.
    for (let i = 0; r.status !== 201 && i < 40; i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await sim.startCall(a, tid);
    }
    expect(r.status, `${a}: ${JSON.stringify(r.body)}`).toBe(201);
    tids.push(tid);
  }
  return tids;
}

async function oneTermCodeEach(tids: string[]): Promise<void> {
  await waitUntil(async () => {
    const calls = new Map((await sim.state()).calls.map((c) => [c.transactionId, c]));
    return tids.every((t) => calls.get(t)?.status === 'ended' && (calls.get(t)?.termCodes.length ?? 0) >= 1);
  }, 20_000, 'a term code for each call').catch(async (e: Error) => {
    const calls = (await sim.state()).calls.filter((c) => tids.includes(c.transactionId)).map((c) => `${c.transactionId} ${c.status} ${c.termCodes.length}`);
    throw new Error(`${e.message}\n${calls.join('\n')}\nkamailio:\n${kamOut().slice(-15).join('\n')}\nnodes:\n${nodes.map((n) => n?.out.slice(-8).join('\n')).join('\n--\n')}\nsandbox:\n${sandbox.out.slice(-8).join('\n')}`);
  });
  const calls = new Map((await sim.state()).calls.map((c) => [c.transactionId, c]));
  expect(tids.map((t) => calls.get(t)!.termCodes.length)).toEqual(tids.map(() => 1));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vagw-cf-'));
  redis = await startRedis();
  // TCP ports of the same numbers as the UDP SIP ports (SIP here is UDP only): fixed, where a
  // port found free and bound later can be taken meanwhile by an outgoing connection's ephemeral port.
  simPort = KAM;
  for (const i of [0, 1, 2]) httpPorts[i] = NODE_SIP[i]!;
  sim = admin(simPort);
  writeFileSync(path.join(dir, 'sandbox.yaml'), config('sandbox'));
  sandbox = run(['sandbox', '--config', path.join(dir, 'sandbox.yaml')]);
  await ready(sandbox, `http://127.0.0.1:${simPort}/__sim/state`, 'sandbox');
  kamailio = await startKamailio({ port: KAM, redisPort: redis.port, cluster: 'cf', nodes: NODE_SIP, dir });
  for (const i of [0, 1, 2]) await startNode(i);
  store = redis.connect();
}, 60_000);

async function startNode(i: number): Promise<void> {
  writeFileSync(path.join(dir, `node-${i}.yaml`), config(i));
  const p = run(['start', '--config', path.join(dir, `node-${i}.yaml`)]);
  nodes[i] = p;
  await ready(p, `http://127.0.0.1:${httpPorts[i]}/healthz`, `node ${i}`);
}

/** Calls answered and not yet handed to the outbox, in Redis for these agents. */
async function openInRedis(agents: string[]): Promise<number> {
  return countIn('open', agents);
}

/** Entries of `kind` in Redis for these agents; NaN while the test's connection is not back after a Redis restart. */
async function countIn(kind: string, agents: string[]): Promise<number> {
  try {
    let n = 0;
    for (const a of agents) n += await store.hlen(`vagw:cf:${kind}:${a}`);
    return n;
  } catch {
    return NaN;
  }
}

/** Wrap-up steps the cluster holds in Redis for these agents (the outbox a dead node leaves). */
async function stepsInRedis(agents: string[]): Promise<number> {
  return countIn('wrapup', agents);
}

afterAll(async () => {
  for (const n of nodes) await stop(n, 'SIGKILL');
  kamailio?.stop();
  await stop(sandbox);
  await redis?.close();
});

describe('cluster: three nodes behind Kamailio, ownership in Redis, LiveVox sandbox', () => {
  it('every agent owned and signed in by exactly one node; each call reaches its owner and is wrapped up once', async () => {
    await waitUntil(() => splitOver([0, 1, 2]), 15_000, 'the agents split between the three nodes');
    await allReady(15_000, 'every agent READY at LiveVox');
    const tids = await callEach(AGENTS);
    await oneTermCodeEach(tids);
    await allReady(10_000, 'READY again');
  }, 60_000);

  it('the REST API of any node shows the whole cluster and forwards actions to the node that has the call', async () => {
    const a1 = await agentsOf(1);
    const agents = (await (await fetch(`http://127.0.0.1:${httpPorts[0]}/agents`)).json()) as { agents: { id: string; node: string }[] };
    expect(agents.agents.map((a) => [a.id, a.node]).sort()).toEqual([...(await owners())].map(([a, o]) => [a, `node-${o[0]}`]).sort());
    // Bad input through the cluster's API: a 400 naming it, from the node asked.
    for (const [method, p] of [['GET', '/calls/%ZZ'], ['POST', '/calls/%ZZ/actions'], ['POST', '/agents/%ZZ/state']] as const) {
      const bad = await fetch(`http://127.0.0.1:${httpPorts[0]}${p}`, { method, ...(method === 'POST' ? { body: '{"state":"ready","action":"HOLD"}', headers: { 'content-type': 'application/json' } } : {}) });
      expect([p, bad.status]).toEqual([p, 400]);
    }
    const [tid] = await startEach([a1[0]!]);
    type Calls = { calls: { callId: string; agentId: string; node: string; status: string }[] };
    let listed: Calls['calls'][number] | undefined;
    await waitUntil(async () => {
      const r = (await (await fetch(`http://127.0.0.1:${httpPorts[0]}/calls`)).json()) as Calls;
      listed = r.calls.find((c) => c.agentId === a1[0] && c.status !== 'ENDED');
      return listed !== undefined;
    }, 10_000, 'node 0 lists the call node 1 has');
    expect(listed!.node).toBe('node-1');
    const local = (await (await fetch(`http://127.0.0.1:${httpPorts[0]}/calls?scope=local`)).json()) as Calls;
    expect(local.calls.some((c) => c.callId === listed!.callId)).toBe(false);
    const r = await fetch(`http://127.0.0.1:${httpPorts[0]}/calls/${encodeURIComponent(listed!.callId)}/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'RELEASE_CALL' }) });
    expect(r.status).toBe(202);
    expect(((await r.json()) as { node: string }).node).toBe('node-1');
    await oneTermCodeEach([tid!]);
    expect((await sim.state()).calls.find((c) => c.transactionId === tid)!.endedBy).toBe('agent');
    // An operator's NotReady and Ready through node 0 for node 1's agent: node 1 (its owner) tells LiveVox.
    await allReady(10_000, 'READY again');
    const agent = a1[a1.length - 1]!;
    for (const state of ['not-ready', 'ready'] as const) {
      const st = await fetch(`http://127.0.0.1:${httpPorts[0]}/agents/${agent}/state`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state }) });
      expect(st.status).toBe(200);
      expect(((await st.json()) as { node: string }).node).toBe('node-1');
      expect((await sim.state()).agents.find((x) => x.user === agent)!.state).toBe(state === 'ready' ? 'READY' : 'NOTREADY');
    }
  }, 60_000);

  it('a node killed: the others own its agents within the TTL, sign them in, take their calls; one term code each', async () => {
    const his = await agentsOf(0);
    expect(his.length).toBeGreaterThan(0);
    await stop(nodes[0], 'SIGKILL');
    const t0 = Date.now();
    await waitUntil(() => splitOver([]), 15_000, 'nodes 1 and 2 own every agent, once each');
    const tookMs = Date.now() - t0;
    expect(tookMs).toBeLessThan(10_000);
    await allReady(15_000, 'every agent READY at LiveVox again');
    const tids = await callEach(his);
    await oneTermCodeEach(tids);
    // Kamailio sent each of those calls to the node that owns the agent now.
    const newOwners = new Set([...(await owners())].filter(([a]) => his.includes(a)).map(([, o]) => o[0]!));
    expect(newOwners.has(0)).toBe(false);
    for (const i of newOwners) expect(kamOut().some((l) => l.includes(`to its owner sip:127.0.0.1:${NODE_SIP[i]}`))).toBe(true);
  }, 60_000);

  it('the node comes back: it takes a share of the agents once their calls are over, no call dropped', async () => {
    // Every agent on a call at nodes 1 and 2 when node 0 comes back: none may move while its call is up.
    const tids = await startEach(AGENTS);
    await startNode(0);
    await new Promise((res) => setTimeout(res, 3000));
    expect(await agentsOf(0)).toEqual([]);
    expect((await sim.state()).calls.filter((c) => tids.includes(c.transactionId)).every((c) => c.status === 'active')).toBe(true);
    for (const t of tids) await sim.endCall(t);
    await oneTermCodeEach(tids);
    await waitUntil(() => settledOver([0, 1, 2]), 15_000, 'node 0 owns its share again');
    await allReady(15_000, 'every agent READY after the rebalance');
    const all = new Map((await sim.state()).calls.map((c) => [c.transactionId, c]));
    expect(tids.map((t) => all.get(t)!.endedBy)).toEqual(tids.map(() => 'customer'));
  }, 60_000);

  it('Redis restarted mid-run (AOF): calls up and wrap-ups pending survive it, nobody changes hands, one term code each', async () => {
    await waitUntil(() => settledOver([0, 1, 2]), 15_000, 'the rebalance over');
    await allReady(15_000, 'every agent READY');
    const before = await owners();
    const tids = await startEach(AGENTS);
    // Term codes refused for now: half the calls end with their wrap-up pending in Redis.
    expect((await sim.faults({ errorRate: 1, only: ['/callControl/agent/call/termCode'] })).status).toBe(200);
    const half = Math.floor(tids.length / 2);
    for (const t of tids.slice(0, half)) await sim.endCall(t);
    await waitUntil(async () => (await stepsInRedis(AGENTS)) >= 2 * half, 10_000, 'the first half pending in Redis');
    await redis.stop('SIGKILL');
    // The other half ends while Redis is down: their wrap-ups wait for it.
    for (const t of tids.slice(half)) await sim.endCall(t);
    await redis.start();
    await sim.faults({});
    await oneTermCodeEach(tids);
    await waitUntil(async () => (await stepsInRedis(AGENTS)) === 0 && (await openInRedis(AGENTS)) === 0, 15_000, 'nothing left in Redis');
    await allReady(15_000, 'every agent READY again');
    expect(await owners()).toEqual(before);
  }, 90_000);

  it('a node killed with wrap-ups pending: the new owners replay them from Redis, exactly once', async () => {
    const his = await agentsOf(0);
    expect(his.length).toBeGreaterThan(0);
    await waitUntil(async () => {
      const st = await sim.state();
      return his.every((a) => st.agents.find((x) => x.user === a)?.state === 'READY');
    }, 15_000, 'node 0 has its agents READY');
    // The platform refuses every term code: node 0 keeps them in its outbox (in Redis), retrying.
    expect((await sim.faults({ errorRate: 1, only: ['/callControl/agent/call/termCode'] })).status).toBe(200);
    const tids = await callEach(his);
    // Each call's wrap-up (term code, Ready) in Redis, none of them an open call any more.
    await waitUntil(async () => (await stepsInRedis(his)) === 2 * his.length && (await openInRedis(his)) === 0, 10_000, 'the pending wrap-ups in Redis');
    await stop(nodes[0], 'SIGKILL');
    await sim.faults({});
    await oneTermCodeEach(tids);
    await waitUntil(async () => (await stepsInRedis(his)) === 0, 10_000, 'no wrap-up left in Redis');
    await allReady(15_000, 'every agent READY at the new owner');
    expect(await splitOver([])).toBe(true);
    expect((await owners()).size).toBe(AGENTS.length);
    // Exactly once, and the one node 0 chose (the caller hung up), replayed: not a 'failed' of its own.
    const all = new Map((await sim.state()).calls.map((c) => [c.transactionId, c]));
    expect(tids.map((t) => all.get(t)!.termCodes.map((c) => c.termCodeName))).toEqual(tids.map(() => ['Caller Hung Up']));
    expect([nodes[1]!, nodes[2]!].some((n) => n.out.some((l) => l.includes("took over what the agent's earlier owner left")))).toBe(true);
  }, 90_000);
});
