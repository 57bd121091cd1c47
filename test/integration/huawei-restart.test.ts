/**
 * Huawei AICC with the gateway and the sandbox as separate real processes (`vagw start`, `vagw
 * sandbox`): the gateway reaches the CC-Gateway simulator and its SIP registrar as a remote
 * tenant. The platform's `work` interface answers 503 (an outage of its wrap-up side) while
 * calls end, so their wrap-ups stay pending in the gateway's outbox; the gateway is killed with
 * SIGKILL and started again on the same data directory. The platform still has the old sessions:
 * the new process is refused 100-002 and takes them over with forcelogin, registers the phones
 * again, and replays each pending wrap-up exactly once before the agent is idle again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huaweiAdmin, huaweiConfigs, ready, run, stop, waitUntil, type Proc } from '../helpers/processes.js';
import { freePort } from '../helpers/sipp.js';

const AGENTS = 4;
const workNos = Array.from({ length: AGENTS }, (_, i) => `10${String(i + 1).padStart(2, '0')}`);
let sandbox: Proc;
let gateway: Proc | undefined;
let files: { gateway: string; sandbox: string };
let httpPort: number;
let sim: ReturnType<typeof huaweiAdmin>;

async function startGateway(): Promise<void> {
  gateway = run(['start', '--config', files.gateway]);
  await ready(gateway, `http://127.0.0.1:${httpPort}/healthz`, 'gateway');
}

async function allIdle(timeoutMs: number, what: string): Promise<void> {
  await waitUntil(async () => (await sim.state()).agents.every((a) => a.status === 'idle'), timeoutMs, what).catch(async (e: Error) => {
    const st = await sim.state();
    throw new Error(`${e.message}: ${st.agents.filter((a) => a.status !== 'idle').map((a) => `${a.agentId} ${a.status}`).join(', ')}\n${gateway?.out.slice(-10).join('\n') ?? ''}`);
  });
}

const metric = async (name: string): Promise<number> => {
  const m = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(m)?.[1] ?? 0);
};

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vagw-hw-restart-'));
  httpPort = await freePort();
  const simPort = await freePort();
  files = huaweiConfigs({ dir, sipPort: 25999, httpPort, simPort, registrarPort: await freePort(), rtp: [51900, 51999], agents: AGENTS });
  sim = huaweiAdmin(simPort);
  sandbox = run(['sandbox', '--config', files.sandbox]);
  await ready(sandbox, `http://127.0.0.1:${simPort}/__sim/state`, 'sandbox');
  await startGateway();
  await allIdle(15_000, 'agents signed in, registered and idle');
}, 60_000);

afterAll(async () => {
  await stop(gateway, 'SIGKILL');
  await stop(sandbox);
});

describe('huawei-aicc: gateway and sandbox as processes', () => {
  it('the sandbox rings the phones the remote gateway registered; each call is wrapped up once', async () => {
    expect((await sim.state()).phones.map((p) => p.number).sort()).toEqual(['70001', '70002', '70003', '70004']);
    const r = await sim.route(workNos[0]!);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await waitUntil(async () => (await sim.state()).calls.find((c) => c.callid === r.body.callid)?.state === 'talking', 5000, 'the call answered');
    await sim.hangup(r.body.callid);
    await waitUntil(async () => (await sim.state()).calls.find((c) => c.callid === r.body.callid)?.idleAt !== undefined, 5000, 'the agent idle again');
    expect((await sim.state()).calls.find((c) => c.callid === r.body.callid)?.workRequests).toBe(1);
  }, 20_000);

  it('SIGKILL with wrap-ups pending (work answered 503) and a call up: the restarted gateway takes the sessions over with forcelogin and wraps each call up once', async () => {
    expect((await sim.faults({ errorRate: 1, only: ['work'], seed: 16 })).status).toBe(200);
    const callids: string[] = [];
    for (const w of workNos) {
      const r = await sim.route(w);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      callids.push(r.body.callid);
    }
    const calls = async () => new Map((await sim.state()).calls.map((c) => [c.callid, c]));
    await waitUntil(async () => {
      const m = await calls();
      return callids.every((id) => m.get(id)?.state === 'talking');
    }, 5000, 'the calls answered');
    // Three customers hang up; the fourth call is still up when the gateway dies.
    const [up, ...ended] = [callids[3]!, ...callids.slice(0, 3)];
    for (const id of ended) await sim.hangup(id);
    await waitUntil(async () => (await metric('vagw_wrapup_steps_pending')) >= 6, 5000, 'the three wrap-ups pending');
    await stop(gateway, 'SIGKILL');
    const atKill = await calls();
    expect(callids.map((id) => atKill.get(id)?.workRequests)).toEqual([0, 0, 0, 0]);
    expect((await sim.state()).agents.map((a) => a.status)).toEqual(['work', 'work', 'work', 'talking']);
    // The customer of the call that died with the gateway hears silence and hangs up.
    await sim.hangup(up);

    await sim.faults({});
    await startGateway();
    await waitUntil(async () => {
      const m = await calls();
      return callids.every((id) => m.get(id)?.idleAt !== undefined);
    }, 20_000, 'each call wrapped up and its agent idle');
    const after = await calls();
    expect(callids.map((id) => after.get(id)?.workRequests), gateway!.out.join('\n')).toEqual([1, 1, 1, 1]);
    await allIdle(10_000, 'agents idle after the restart');
    expect(gateway!.out.some((l) => l.includes('forcelogin'))).toBe(true);
    // The call that died up is wrapped up as failed (as is a call whose wrap-up had not reached the
    // disk when the process died: the pending-steps metric counts steps before their fsync).
    const failed = gateway!.out.filter((l) => l.includes('wrapped up now as failed'));
    expect(failed.filter((l) => l.includes(`"callid":"${up}"`)).length, gateway!.out.join('\n')).toBe(1);
  }, 60_000);
});
