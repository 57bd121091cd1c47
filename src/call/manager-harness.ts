/**
 * The harness of the call manager's unit tests: the SIP endpoint on an in-memory datagram
 * network, a fake media plane, an in-memory outbox and one fake clock; a platform seen through a
 * test policy (ids in X-Test-Call, disposition then Ready) and an adapter that records commands.
 * Raw SIP messages from a peer at 127.0.0.2:5062.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, expect } from 'vitest';
import { AgentPool } from '../agents/pool.js';
import { loadConfig } from '../config/load.js';
import { parseMessage } from '../sip/parser.js';
import type { SipMessage, SipResponse } from '../sip/message.js';
import { MemoryNetwork } from '../sip/transport/memory.js';
import { MemoryOutbox } from '../store/outbox.js';
import { FakeClock, flush } from '../util/clock.js';
import type { ContactCenterPolicy, InboundEvent, VendorAdapter, VendorCallIds, WrapStep } from '../vendors/types.js';
import { FakeMediaPlane } from '../../media/testing/fake-plane.js';
import type { ContactCenterLink } from './lockstep.js';
import { CallManager } from './manager.js';
import { OpenCalls, type OpenCall } from './open-calls.js';
import { WrapUpRunner } from './wrapup.js';

const log = pino({ level: 'silent' });
const GW = { address: '127.0.0.1', port: 5060 };
const PEER = { address: '127.0.0.2', port: 5062 };
export const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.2', 's=-', 'c=IN IP4 127.0.0.2', 't=0 0', 'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
export const G729_ONLY = SDP.replace('RTP/AVP 0 101', 'RTP/AVP 18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');

export function config(extra = '', gatewayExtra = '') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vagw-manager-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    `gateway: { name: unit, http: { host: 127.0.0.1, port: 0 }, logLevel: silent${gatewayExtra} }
media: { host: 127.0.0.1, rtpPortMin: 30000, rtpPortMax: 30199 }
profiles:
  - name: unit
    listen: { host: 127.0.0.1, port: 5060, transports: [udp] }
    trustedSources: [127.0.0.0/8]
${extra}    agents:
      - { id: va-01, number: "+18990000001" }
      - { id: va-02, number: "+18990000002" }
      - { id: va-03, number: "+18990000003", engine: "webrtc:attach" }
`,
  );
  return loadConfig(file, {});
}

/** A platform as the call layer sees it: ids in X-Test-Call, disposition then Ready. */
export function testPolicy(answer: ContactCenterPolicy['answer'] = 'immediately'): ContactCenterPolicy {
  return {
    idsFromInvite: (h) => (h('X-Test-Call') ? { transactionId: h('X-Test-Call')! } : {}),
    isPlatformCall: (ids) => !!ids.transactionId,
    sameCall: (a, b) => !!a.transactionId && a.transactionId === b.transactionId,
    wrapUpPlan: ({ callId, agentId, ids, termCode }) => [
      ...(ids.transactionId ? [{ kind: 'termCode' as const, agentId, callId, ids, termCode }] : []),
      { kind: 'ready' as const, agentId, callId },
    ],
    answer,
    keepAlive: { kind: 'none' },
    mayTakeCall: (s) => s === 'ready',
  };
}

/** Records every command; the platform side of these tests. */
export class RecordingAdapter implements VendorAdapter {
  readonly name = 'test';
  readonly calls: string[] = [];
  sink?: (ev: InboundEvent) => void;
  async login(): Promise<void> {}
  async ready(agentId: string): Promise<void> {
    this.calls.push(`ready ${agentId}`);
  }
  async notReady(agentId: string): Promise<void> {
    this.calls.push(`notReady ${agentId}`);
  }
  async logout(): Promise<void> {}
  async status() {
    return { state: 'in-call' as const };
  }
  async callIds(_a: string, hint: VendorCallIds): Promise<VendorCallIds> {
    return hint;
  }
  async screenPop(): Promise<Record<string, string>> {
    return {};
  }
  async transfer(): Promise<void> {}
  async setTermCode(agentId: string, ids: VendorCallIds, termCode: string): Promise<void> {
    this.calls.push(`termCode ${agentId} ${ids.transactionId} ${termCode}`);
  }
  async updateContact(): Promise<void> {}
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

export async function setup(opts: { profile?: string; answer?: ContactCenterPolicy['answer']; gateway?: string; eventLoopDelayMs?: () => number; eventLoopUtilization?: () => number } = {}) {
  const cfg = config(opts.profile ?? '', opts.gateway ?? '');
  const clock = new FakeClock();
  const net = new MemoryNetwork();
  const media = new FakeMediaPlane();
  const pool = new AgentPool(cfg.profiles);
  const adapter = new RecordingAdapter();
  const cc = cfg.profiles[0]!.contactCenter;
  const link: ContactCenterLink = { vendor: 'test', adapter, policy: testPolicy(opts.answer), cc };
  let manager!: CallManager;
  const wrapUp = new WrapUpRunner(new MemoryOutbox<WrapStep>(), () => adapter, { maxAttempts: 3, retryMs: 100 }, { ready: (id) => manager.agentReady(id), failed: () => undefined }, log, clock);
  const openCalls = new OpenCalls(new MemoryOutbox<OpenCall>());
  manager = new CallManager(cfg, pool, media, log, { contactCenters: { links: new Map([['unit', link]]), wrapUp, openCalls }, clock, datagram: net.factory, ...(opts.eventLoopDelayMs ? { eventLoopDelayMs: opts.eventLoopDelayMs } : {}), ...(opts.eventLoopUtilization ? { eventLoopUtilization: opts.eventLoopUtilization } : {}) });
  await manager.start();
  cleanups.push(async () => {
    wrapUp.stop();
    await manager.stop();
  });
  const received: SipMessage[] = [];
  const peer = net.bind(PEER.address, PEER.port, (d) => void received.push(parseMessage(d)));
  await peer.listen();
  const send = async (text: string): Promise<void> => {
    await peer.send(Buffer.from(text.replace(/\r?\n/g, '\r\n')), GW);
    await settle();
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await flush();
  };
  const responses = (callId: string, method = 'INVITE') =>
    received.filter((m): m is SipResponse => m.type === 'response' && m.headers.get('Call-ID') === callId && (m.headers.get('CSeq') ?? '').endsWith(method));
  const finalOf = (callId: string) => responses(callId).find((r) => r.status >= 200);
  const agent = (id: string) => pool.list().find((a) => a.id === id)!;
  return { cfg, clock, net, media, pool, adapter, manager, wrapUp, openCalls, send, settle, responses, finalOf, agent, link, received };
}

let seq = 0;
/** A fresh number for branches and Call-IDs. */
export const nextSeq = (): number => ++seq;
export function invite(o: { callId?: string; to?: string; fromTag?: string; platformId?: string; sdp?: string | null; branch?: string } = {}) {
  const body = o.sdp === null ? '' : (o.sdp ?? SDP);
  const branch = o.branch ?? `z9hG4bK-${++seq}`;
  const callId = o.callId ?? `call-${seq}@127.0.0.2`;
  const lines = [
    `INVITE sip:${o.to ?? '+18990000001'}@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.2:5062;branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:+15551230000@127.0.0.2>;tag=${o.fromTag ?? `f${seq}`}`,
    `To: <sip:${o.to ?? '+18990000001'}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:+15551230000@127.0.0.2:5062>',
    ...(o.platformId ? [`X-Test-Call: ${o.platformId}`] : []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return { text: lines.join('\r\n'), callId, branch, fromTag: o.fromTag ?? `f${seq}`, to: o.to ?? '+18990000001' };
}

export function cancel(inv: ReturnType<typeof invite>) {
  return [
    `CANCEL sip:${inv.to}@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.2:5062;branch=${inv.branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:+15551230000@127.0.0.2>;tag=${inv.fromTag}`,
    `To: <sip:${inv.to}@127.0.0.1>`,
    `Call-ID: ${inv.callId}`,
    'CSeq: 1 CANCEL',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export function inDialog(method: 'ACK' | 'BYE', inv: ReturnType<typeof invite>, ok: SipResponse, cseq: number) {
  return [
    `${method} sip:${inv.to}@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-${method}-${++seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:+15551230000@127.0.0.2>;tag=${inv.fromTag}`,
    `To: ${ok.headers.get('To')}`,
    `Call-ID: ${inv.callId}`,
    `CSeq: ${cseq} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export type Env = Awaited<ReturnType<typeof setup>>;

/** Exactly one wrap-up for the agent, the lease back, and no media port in use. */
export function expectWrappedUpOnce(env: Env, agentId: string, platformId: string | undefined, termCode: string) {
  const mine = env.adapter.calls.filter((c) => c.includes(` ${agentId}`));
  expect(mine).toEqual([...(platformId ? [`termCode ${agentId} ${platformId} ${termCode}`] : []), `ready ${agentId}`]);
  expect(env.agent(agentId).state).toBe('ready');
  expect(env.wrapUp.pendingTotal).toBe(0);
  expect(env.openCalls.size).toBe(0);
  expect(env.media.portsInUse()).toBe(0);
  expect(env.manager.calls.size).toBe(0);
}

/** Answer a call and ACK it; returns the 200 and the fake media session. */
export async function answeredCall(env: Env, o: Parameters<typeof invite>[0]) {
  const inv = invite(o);
  await env.send(inv.text);
  const ok = env.finalOf(inv.callId)!;
  expect(ok.status).toBe(200);
  await env.send(inDialog('ACK', inv, ok, 1));
  const session = env.media.sessions.find((s) => s.request.meta.sipCallId === inv.callId && !s.closed)!;
  return { inv, ok, session };
}

/** Answer the gateway's in-dialog request (method) with `status`. */
export async function answerRequest(env: Env, method: string, status: number, sdp?: string) {
  const req = [...env.received].reverse().find((m) => m.type === 'request' && m.method === method)!;
  expect(req).toBeDefined();
  const h = req.headers;
  const body = sdp ?? '';
  const head = [`SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Declined'}`, ...h.getAll('Via').map((v) => `Via: ${v}`), `From: ${h.get('From')}`, `To: ${h.get('To')}`, `Call-ID: ${h.get('Call-ID')}`, `CSeq: ${h.get('CSeq')}`];
  if (status < 300 && method === 'INVITE') head.push('Contact: <sip:caller@127.0.0.2:5062>');
  if (body) head.push('Content-Type: application/sdp');
  await env.send([...head, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
}

/** The caller's side's in-dialog re-INVITE (a new offer) in the call `inv` answered with `ok`. */
export function reInvite(inv: ReturnType<typeof invite>, ok: SipResponse, cseq: number, sdp: string) {
  return [
    `INVITE sip:${inv.to}@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-reinv-${++seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:+15551230000@127.0.0.2>;tag=${inv.fromTag}`,
    `To: ${ok.headers.get('To')}`,
    `Call-ID: ${inv.callId}`,
    `CSeq: ${cseq} INVITE`,
    'Contact: <sip:caller@127.0.0.2:5062>',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
}

