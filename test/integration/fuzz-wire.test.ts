/**
 * 20 000 mutated SIP messages over UDP and TCP against the built gateway in a process of its own
 * (npm run fuzz:sip runs the same driver with 1 000 000): the process never exits, an OPTIONS from
 * a separate socket is answered throughout, no internal error is even contained (each one would
 * be a bug to fix at its cause), idle and slow TCP connections are closed by the gateway's limits,
 * and a normal call still goes through at the end.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runFuzz } from '../../bench/fuzz/driver.js';
import { metric, startGatewayChild, type GatewayChild } from '../../bench/fuzz/gateway.js';
import type { SipResponse } from '../../src/sip/message.js';
import { FIXTURES } from '../helpers/gateway.js';
import { inDialog, invite, isFinal, isResponse, OFFER, SipPeer, toTag, type DialogRef } from '../helpers/sip-peer.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
let gw: GatewayChild;

beforeAll(async () => {
  gw = await startGatewayChild(ROOT, path.join(FIXTURES, 'fuzz-gateway.yaml'), 25191);
});
afterAll(async () => {
  gw.child.kill('SIGKILL');
});

it('survives 20 000 mutated messages, idle and slow TCP peers, and still takes a call', async () => {
  const r = await runFuzz({
    host: '127.0.0.1', port: 25190, root: ROOT, count: 20_000, ratePerSec: 4000, seed: 20_000, tcpShare: 0.2,
    livenessEvery: 1000, idleConnections: 300, idleSources: 3, slowWriters: 5, pid: gw.pid, number: '+18990000001', settleMs: 2600,
  });
  expect(r.crashed, gw.errors.join('\n')).toBe(false);
  expect(r.sent).toBe(20_000);
  expect(r.liveness.failures).toBe(0);
  expect(r.liveness.checks).toBe(21);
  // 64 per source are accepted, the rest refused at accept; every accepted one closed by the deadline.
  expect(await metric(25191, 'vagw_sip_tcp_closed_total', 'limit="per-source"')).toBe(300 - 3 * 64);
  expect(await metric(25191, 'vagw_sip_tcp_closed_total', 'limit="message-timeout"')).toBeGreaterThanOrEqual(3 * 64 + 5);
  expect(r.idle.stillOpen).toBe(0);
  expect(r.idle.closedByGateway).toBe(300);
  expect(r.slowWriters.closedByGateway).toBe(5);
  expect(await metric(25191, 'vagw_internal_errors_total'), gw.errors.join('\n')).toBe(0);
  expect(await metric(25191, 'vagw_sip_parse_errors_total')).toBeGreaterThan(1000);
  console.info(`fuzz 20 000: ${JSON.stringify({ sent: r.sent, udp: r.udp, tcp: r.tcp, liveness: r.liveness, idle: r.idle, slowWriters: r.slowWriters, before: r.before, after: r.after })}`);

  const peer = await SipPeer.open();
  const d: DialogRef = { callId: `after-fuzz-${Date.now()}`, number: '+18990000010', fromTag: 'af', cseq: 1 };
  peer.send(invite(peer, d, OFFER(7300)), 25190);
  const ok = (await peer.next((m) => isFinal('INVITE')(m) && m.headers.get('Call-ID') === d.callId)) as SipResponse;
  expect(ok.status).toBe(200);
  d.toTag = toTag(ok);
  peer.send(inDialog(peer, d, 'ACK'), 25190);
  d.cseq++;
  peer.send(inDialog(peer, d, 'BYE'), 25190);
  await peer.next(isResponse(200, 'BYE'));
  peer.close();
  expect(await gw.stop()).toBe(0);
}, 120_000);
