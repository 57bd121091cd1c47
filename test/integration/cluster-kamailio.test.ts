/**
 * Kamailio in front of two gateway processes (deploy/kamailio/kamailio.cfg, Debian's kamailio with
 * ndb_redis and dispatcher), Redis holding which node owns which agent (the route keys the
 * cluster nodes write, src/cluster/node.ts), SIPp as the carrier: an INVITE reaches the node that
 * owns the called agent, Record-Route keeps the BYE on it; an agent with no owner known goes to a
 * live node of the dispatcher set; the owner killed: the call goes to the other node; both down:
 * refused with the reason.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio, type TestKamailio } from '../helpers/kamailio.js';
import { ready, run, stop, type Proc } from '../helpers/processes.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { describeSipp, freePort, runSipp } from '../helpers/sipp.js';
import { isFinal, SipPeer } from '../helpers/sip-peer.js';

const KAM_PORT = 25960;
const NODES = [25961, 25962];
let redis: TestRedis;
let client: Redis;
let kamailio: TestKamailio;
const kamOut = (): string[] => kamailio.out;
const gateways: Proc[] = [];
const httpPorts: number[] = [];
let dir: string;

function gatewayConfig(i: number, httpPort: number): string {
  return `gateway: { name: node-${i}, http: { host: 127.0.0.1, port: ${httpPort} }, logLevel: warn, drainTimeoutSeconds: 1 }
media: { host: 127.0.0.1, rtpPortMin: ${52400 + i * 100}, rtpPortMax: ${52499 + i * 100}, workers: 0, rtpTimeoutSeconds: 0 }
dataDir: ${JSON.stringify(path.join(dir, `data-${i}`))}
profiles:
  - name: carrier
    listen: { host: 127.0.0.1, port: ${NODES[i]}, transports: [udp] }
    trustedSources: [127.0.0.0/8]
    engine: builtin:echo
    agents:
      - { range: { from: "+18990000001", count: 6 }, idPrefix: va-, idWidth: 2 }
`;
}

const answered = async (i: number): Promise<number> => {
  const m = await (await fetch(`http://127.0.0.1:${httpPorts[i]}/metrics`)).text();
  return Number(/^vagw_calls_answered_total (\d+)/m.exec(m)?.[1] ?? 0);
};
const route = (number: string, node: number) => client.set(`vagw:t:route:${number.replace('+', '')}`, `127.0.0.1:${NODES[node]}`, 'PX', 60_000);
const call = (number: string) => runSipp({ scenario: 'bench-call.xml', target: `127.0.0.1:${KAM_PORT}`, injection: [number], calls: 1, timeoutSec: 20 });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vagw-kam-'));
  redis = await startRedis();
  client = redis.connect();
  for (const i of [0, 1]) {
    httpPorts[i] = await freePort();
    const f = path.join(dir, `gw-${i}.yaml`);
    writeFileSync(f, gatewayConfig(i, httpPorts[i]!));
    const g = run(['start', '--config', f]);
    gateways.push(g);
    await ready(g, `http://127.0.0.1:${httpPorts[i]}/healthz`, `gateway ${i}`);
  }
  kamailio = await startKamailio({ port: KAM_PORT, redisPort: redis.port, cluster: 't', nodes: NODES, dir });
  // The dispatcher's first OPTIONS round marks both nodes up.
  await new Promise((r) => setTimeout(r, 1500));
}, 60_000);

afterAll(async () => {
  kamailio?.stop();
  for (const g of gateways) await stop(g, 'SIGKILL');
  await redis?.close();
});

describe('Kamailio in front of the nodes (route in Redis, dispatcher fallback, Record-Route)', () => {
  it('an INVITE reaches the node that owns the called agent; the call completes through Kamailio', async () => {
    await route('+18990000001', 1);
    await route('+18990000002', 0);
    const before = [await answered(0), await answered(1)];
    const r1 = await call('+18990000001');
    expect(r1.successful, describeSipp(r1) + kamOut().slice(-10).join('\n')).toBe(1);
    const r2 = await call('+18990000002');
    expect(r2.successful, describeSipp(r2)).toBe(1);
    expect([(await answered(0)) - before[0]!, (await answered(1)) - before[1]!]).toEqual([1, 1]);
    expect(kamOut().some((l) => l.includes(`INVITE for +18990000001 to its owner sip:127.0.0.1:${NODES[1]}`))).toBe(true);
  }, 30_000);

  it('no owner known: a live node of the dispatcher set takes the call', async () => {
    await client.del('vagw:t:route:18990000003');
    const before = (await answered(0)) + (await answered(1));
    const r = await call('+18990000003');
    expect(r.successful, describeSipp(r)).toBe(1);
    expect((await answered(0)) + (await answered(1))).toBe(before + 1);
    expect(kamOut().some((l) => l.includes('INVITE for +18990000003 to node'))).toBe(true);
  }, 30_000);

  it('the owner killed: its INVITE times out at Kamailio and the other node takes the call', async () => {
    await route('+18990000004', 0);
    await stop(gateways[0], 'SIGKILL');
    const before = await answered(1);
    const r = await call('+18990000004');
    expect(r.successful, describeSipp(r)).toBe(1);
    expect(await answered(1)).toBe(before + 1);
  }, 30_000);

  it('no node left: refused with the reason (503 once the probes took both out, 480 while a dead one is still tried)', async () => {
    await stop(gateways[1], 'SIGKILL');
    await client.del('vagw:t:route:18990000005');
    // The dispatcher's probes take both nodes out.
    await new Promise((r) => setTimeout(r, 2500));
    const peer = await SipPeer.open();
    try {
      peer.send(`INVITE sip:+18990000005@127.0.0.1:${KAM_PORT} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-kam-nonode
Max-Forwards: 70
From: <sip:carrier@127.0.0.1>;tag=kam1
To: <sip:+18990000005@127.0.0.1>
Call-ID: kam-nonode@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:carrier@127.0.0.1:${peer.port}>
Content-Length: 0

`, KAM_PORT);
      const res = await peer.next(isFinal('INVITE'), 10_000);
      const got = res.type === 'response' ? `${res.status} ${res.reason}` : '';
      expect(['503 No gateway node is available', '480 No gateway node could take the call']).toContain(got);
    } finally {
      peer.close();
    }
  }, 30_000);
});
