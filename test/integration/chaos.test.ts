/**
 * Chaos while loaded, with the gateway and the LiveVox sandbox as separate real processes
 * (`vagw start`, `vagw sandbox`) and calls with RTP from the sandbox's placer:
 * - the contact center's API answers 30 % of term codes and Readys with 503 and stalls up to
 *   1.5 s, while 12 agents take calls back to back;
 * - the engine flaps: a third of its connections drop mid-call (the gateway reconnects once, then
 *   applies the failure policy);
 * - the gateway is killed with SIGKILL while wrap-ups are pending (the term-code API stalling),
 *   and started again on the same data directory: the outbox replays them, exactly once.
 * After each: every call the contact center routed has exactly one term code and every agent is
 * READY; and SIPp losing 10 % of the messages it receives, 6 calls at a time over the 12 agents,
 * completes every call (the RFC 3261 timers of both sides recover them).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { admin, configs, ready, run, stop, waitUntil, type Proc } from '../helpers/processes.js';
import { describeSipp, freePort, runSipp } from '../helpers/sipp.js';

const AGENTS = 12;
const agentIds = Array.from({ length: AGENTS }, (_, i) => `ch-${String(i + 1).padStart(2, '0')}`);
let sandbox: Proc;
let gateway: Proc | undefined;
let engine: WebSocketServer;
let files: { gateway: string; sandbox: string };
let httpPort: number;
let sim: ReturnType<typeof admin>;
const engineStarts: { reconnect: boolean }[] = [];
let flapping = false;
let seq = 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A Twilio-protocol engine that echoes; while `flapping`, a third of its sockets drop (1011) mid-call. */
function startEngine(): Promise<number> {
  engine = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  engine.on('connection', (ws: WebSocket) => {
    let sid = '';
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { event: string; streamSid?: string; start?: { customParameters?: Record<string, string> }; media?: { payload: string } };
      if (m.event === 'start') {
        sid = m.streamSid ?? '';
        engineStarts.push({ reconnect: m.start?.customParameters?.['reconnect'] === 'true' });
        if (flapping && engineStarts.length % 3 === 0) setTimeout(() => ws.close(1011, 'engine crashed'), 100 + (engineStarts.length % 4) * 80);
      }
      if (m.event === 'media' && m.media) ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: m.media.payload } }));
    });
    ws.on('error', () => undefined);
  });
  return new Promise((r) => engine.once('listening', () => r((engine.address() as { port: number }).port)));
}

async function startGateway(): Promise<void> {
  gateway = run(['start', '--config', files.gateway]);
  await ready(gateway, `http://127.0.0.1:${httpPort}/healthz`, 'gateway');
}

async function allReady(timeoutMs: number, what: string): Promise<void> {
  await waitUntil(async () => (await sim.state()).agents.every((a) => a.state === 'READY'), timeoutMs, what).catch(async (e: Error) => {
    const st = await sim.state();
    throw new Error(`${e.message}: ${st.agents.filter((a) => a.state !== 'READY').map((a) => `${a.user} ${a.state}`).join(', ')}\n${gateway?.out.slice(-10).join('\n') ?? ''}`);
  });
}

/** Each agent takes calls back to back for `ms`: routed as soon as READY, the customer hangs up after `talkMs`. */
async function load(ms: number, talkMs: number, agents = agentIds): Promise<string[]> {
  const tids: string[] = [];
  const until = Date.now() + ms;
  await Promise.all(agents.map(async (agent) => {
    while (Date.now() < until) {
      const tid = `77${String(++seq).padStart(10, '0')}`;
      const r = await sim.startCall(agent, tid);
      if (r.status !== 201) {
        await sleep(50);
        continue;
      }
      tids.push(tid);
      await sleep(talkMs);
      await sim.endCall(tid);
    }
  }));
  return tids;
}

/** Every call ended with exactly one term code (none missing, none twice). */
async function expectOneTermCodeEach(tids: string[], timeoutMs: number): Promise<string[]> {
  const byTid = async () => new Map((await sim.state()).calls.map((c) => [c.transactionId, c]));
  await waitUntil(async () => {
    const m = await byTid();
    return tids.every((t) => m.get(t)?.status === 'ended' && (m.get(t)?.termCodes.length ?? 0) >= 1);
  }, timeoutMs, 'a term code for every call');
  const m = await byTid();
  const wrong = tids.filter((t) => m.get(t)!.termCodes.length !== 1);
  expect(wrong.map((t) => `${t}: ${m.get(t)!.termCodes.map((x) => x.termCodeName).join(', ')}`)).toEqual([]);
  return tids.map((t) => m.get(t)!.termCodes[0]!.termCodeName);
}

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vagw-chaos-'));
  const enginePort = await startEngine();
  httpPort = await freePort();
  const simPort = await freePort();
  files = configs({
    dir, sipPort: 25996, httpPort, simPort, rtp: [51600, 51799], agents: AGENTS, engine: 'flappy',
    engines: `  flappy: { url: "ws://127.0.0.1:${enginePort}/", protocol: twilio }`,
  });
  sim = admin(simPort);
  sandbox = run(['sandbox', '--config', files.sandbox]);
  await ready(sandbox, `http://127.0.0.1:${simPort}/__sim/state`, 'sandbox');
  await startGateway();
  await allReady(15_000, 'agents READY');
}, 60_000);

afterAll(async () => {
  await stop(gateway, 'SIGKILL');
  await stop(sandbox);
  engine?.close();
});

describe('chaos while loaded (gateway and sandbox as processes)', () => {
  it("the contact center's API: 30 % 503 and stalls up to 1.5 s on term codes and Ready; every call still gets one term code, every agent READY", async () => {
    await sim.faults({ errorRate: 0.3, latencyMs: [0, 1500], only: ['/callControl/agent/call/termCode', '/callControl/agent/status/ready'], seed: 14 });
    const tids = await load(6000, 300);
    await sim.faults({});
    expect(tids.length).toBeGreaterThan(AGENTS);
    await expectOneTermCodeEach(tids, 30_000);
    await allReady(20_000, 'agents READY after the faults');
  }, 60_000);

  it('the engine flapping: dropped sockets are reconnected once, then the failure policy; one term code per call, agents READY', async () => {
    flapping = true;
    const before = engineStarts.length;
    const tids = await load(5000, 500);
    flapping = false;
    const names = await expectOneTermCodeEach(tids, 20_000);
    await allReady(15_000, 'agents READY after the flapping');
    expect(engineStarts.slice(before).some((s) => s.reconnect)).toBe(true);
    expect(names.every((n) => n === 'Caller Hung Up' || n === 'AI Failure')).toBe(true);
  }, 60_000);

  it('SIGKILL with wrap-ups pending: the restarted gateway replays them from its outbox, exactly once', async () => {
    // Term codes stall past the client's timeout: the wrap-ups stay pending in the outbox.
    await sim.faults({ latencyMs: 2500, only: ['/callControl/agent/call/termCode'] });
    const tids = await load(800, 200, agentIds.slice(0, 6));
    expect(tids.length).toBeGreaterThanOrEqual(6);
    await waitUntil(async () => {
      const m = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      return Number(/^vagw_wrapup_steps_pending (\d+)/m.exec(m)?.[1] ?? 0) >= 2;
    }, 5000, 'wrap-ups pending');
    await stop(gateway, 'SIGKILL');
    const atKill = new Map((await sim.state()).calls.map((c) => [c.transactionId, c.termCodes.length]));
    const unwrapped = tids.filter((t) => atKill.get(t) === 0);
    expect(unwrapped.length).toBeGreaterThan(0);
    await sim.faults({});
    await startGateway();
    await expectOneTermCodeEach(tids, 30_000);
    await allReady(20_000, 'agents READY after the restart');
  }, 60_000);

  it('SIPp dropping 10 % of what it sends and receives, 6 calls at a time over the 12 agents, twice: every call completes', async () => {
    // Each agent once per run: with losses one call can outlast the next one to its agent (BYE
    // retransmissions back off to seconds), which would then be refused 486, rightly.
    const numbers = Array.from({ length: AGENTS }, (_, i) => `+189900000${String(i + 1).padStart(2, '0')}`);
    for (const run of [1, 2]) {
      const r = await runSipp({ scenario: 'bench-call.xml', target: '127.0.0.1:25996', injection: numbers, calls: AGENTS, rate: 4, limit: 6, lost: 10, timeoutSec: 90 });
      expect(r.successful, `run ${run}: ${describeSipp(r)}`).toBe(AGENTS);
      await allReady(15_000, `agents READY after SIPp run ${run}`);
    }
  }, 150_000);
});
