/**
 * Every exit of an INVITE once it is routed to an agent, without sockets or sleeps: the SIP
 * endpoint on an in-memory datagram network, a fake media plane, an in-memory outbox and one fake
 * clock. Each path shows the INVITE's final answer, exactly one wrap-up (disposition then Ready),
 * the lease released once the platform has the agent Ready, and no media port left in use.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
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
import { WrapUpRunner } from './wrapup.js';

const log = pino({ level: 'silent' });
const GW = { address: '127.0.0.1', port: 5060 };
const PEER = { address: '127.0.0.2', port: 5062 };
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.2', 's=-', 'c=IN IP4 127.0.0.2', 't=0 0', 'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
const G729_ONLY = SDP.replace('RTP/AVP 0 101', 'RTP/AVP 18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');

function config(extra = '') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vagw-manager-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    `gateway: { name: unit, http: { host: 127.0.0.1, port: 0 }, logLevel: silent }
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
function testPolicy(answer: ContactCenterPolicy['answer'] = 'immediately'): ContactCenterPolicy {
  return {
    idsFromInvite: (h) => (h('X-Test-Call') ? { transactionId: h('X-Test-Call')! } : {}),
    isPlatformCall: (ids) => !!ids.transactionId,
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
class RecordingAdapter implements VendorAdapter {
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

async function setup(opts: { profile?: string; answer?: ContactCenterPolicy['answer'] } = {}) {
  const cfg = config(opts.profile ?? '');
  const clock = new FakeClock();
  const net = new MemoryNetwork();
  const media = new FakeMediaPlane();
  const pool = new AgentPool(cfg.profiles);
  const adapter = new RecordingAdapter();
  const cc = cfg.profiles[0]!.contactCenter;
  const link: ContactCenterLink = { vendor: 'test', adapter, policy: testPolicy(opts.answer), cc };
  let manager!: CallManager;
  const wrapUp = new WrapUpRunner(new MemoryOutbox<WrapStep>(), () => adapter, { maxAttempts: 3, retryMs: 100 }, { ready: (id) => manager.agentReady(id), failed: () => undefined }, log, clock);
  manager = new CallManager(cfg, pool, media, log, { contactCenters: { links: new Map([['unit', link]]), wrapUp }, clock, datagram: net.factory });
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
  return { cfg, clock, net, media, pool, adapter, manager, wrapUp, send, settle, responses, finalOf, agent, link, received };
}

let seq = 0;
function invite(o: { callId?: string; to?: string; fromTag?: string; platformId?: string; sdp?: string | null; branch?: string } = {}) {
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

function cancel(inv: ReturnType<typeof invite>) {
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

function inDialog(method: 'ACK' | 'BYE', inv: ReturnType<typeof invite>, ok: SipResponse, cseq: number) {
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

type Env = Awaited<ReturnType<typeof setup>>;

/** Exactly one wrap-up for the agent, the lease back, and no media port in use. */
function expectWrappedUpOnce(env: Env, agentId: string, platformId: string | undefined, termCode: string) {
  const mine = env.adapter.calls.filter((c) => c.includes(` ${agentId}`));
  expect(mine).toEqual([...(platformId ? [`termCode ${agentId} ${platformId} ${termCode}`] : []), `ready ${agentId}`]);
  expect(env.agent(agentId).state).toBe('ready');
  expect(env.wrapUp.pendingTotal).toBe(0);
  expect(env.media.portsInUse()).toBe(0);
  expect(env.manager.calls.size).toBe(0);
}

describe('CallManager: every exit of a routed INVITE goes through the call end', () => {
  it('an INVITE without SDP: 488, one wrap-up, lease back', async () => {
    const env = await setup();
    const inv = invite({ sdp: null, platformId: 'T1' });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)?.status).toBe(488);
    expectWrappedUpOnce(env, 'va-01', 'T1', env.link.cc.termCodes.failed);
  });

  it('an SDP offer with no common codec: 488 with the reason', async () => {
    const env = await setup();
    const inv = invite({ sdp: G729_ONLY, platformId: 'T2' });
    await env.send(inv.text);
    const final = env.finalOf(inv.callId)!;
    expect(final.status).toBe(488);
    expect(final.reason).toMatch(/codec/i);
    expectWrappedUpOnce(env, 'va-01', 'T2', env.link.cc.termCodes.failed);
  });

  it('no media: 503 with Retry-After', async () => {
    const env = await setup();
    env.media.mode = 'fail';
    const inv = invite({ platformId: 'T3' });
    await env.send(inv.text);
    const final = env.finalOf(inv.callId)!;
    expect(final.status).toBe(503);
    expect(final.headers.get('Retry-After')).toBe('5');
    expectWrappedUpOnce(env, 'va-01', 'T3', env.link.cc.termCodes.failed);
  });

  it('a WebRTC agent with no far end: 480 naming why', async () => {
    const env = await setup();
    const inv = invite({ to: '+18990000003', platformId: 'T4' });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)?.status).toBe(480);
    expectWrappedUpOnce(env, 'va-03', 'T4', env.link.cc.termCodes.failed);
  });

  it('CANCEL while the media session is being opened: 487, the late session closed, one wrap-up', async () => {
    const env = await setup();
    env.media.mode = 'hold';
    const inv = invite({ platformId: 'T5' });
    await env.send(inv.text);
    await env.send(cancel(inv));
    expect(env.finalOf(inv.callId)?.status).toBe(487);
    expect(env.responses(inv.callId, 'CANCEL')[0]?.status).toBe(200);
    env.media.releaseOpen();
    await env.settle();
    expect(env.media.sessions[0]!.closed).toBe(true);
    expectWrappedUpOnce(env, 'va-01', 'T5', env.link.cc.termCodes.callerHungUp);
  });

  it('CANCEL while ringing (answer delay): 487 and one wrap-up', async () => {
    const env = await setup({ profile: '    answerDelayMs: 2000\n' });
    const inv = invite({ platformId: 'T6' });
    await env.send(inv.text);
    expect(env.responses(inv.callId).some((r) => r.status === 180)).toBe(true);
    await env.send(cancel(inv));
    await env.clock.run(2500);
    expect(env.finalOf(inv.callId)?.status).toBe(487);
    expect(env.responses(inv.callId).filter((r) => r.status === 200)).toHaveLength(0);
    expectWrappedUpOnce(env, 'va-01', 'T6', env.link.cc.termCodes.callerHungUp);
  });

  it('draining while ringing: 503, one wrap-up', async () => {
    const env = await setup({ profile: '    answerDelayMs: 2000\n' });
    const inv = invite({ platformId: 'T7' });
    await env.send(inv.text);
    env.manager.draining = true;
    await env.clock.run(2500);
    expect(env.finalOf(inv.callId)?.status).toBe(503);
    expectWrappedUpOnce(env, 'va-01', 'T7', env.link.cc.termCodes.completed);
  });

  it('an internal error during setup: 500, counted, one wrap-up, the session closed', async () => {
    const env = await setup();
    env.media.mode = 'faulty';
    const inv = invite({ platformId: 'T8' });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)?.status).toBe(500);
    expect(env.media.sessions[0]!.closed).toBe(true);
    expectWrappedUpOnce(env, 'va-01', 'T8', env.link.cc.termCodes.failed);
  });

  it('a call the platform never routed and that is refused: no wrap-up at all, lease back at once', async () => {
    const env = await setup();
    const inv = invite({ sdp: null });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)?.status).toBe(488);
    expect(env.adapter.calls).toEqual([]);
    expect(env.agent('va-01').state).toBe('ready');
  });

  it('answered, then BYE: 200, term code then Ready, once', async () => {
    const env = await setup();
    const inv = invite({ platformId: 'T9' });
    await env.send(inv.text);
    const ok = env.finalOf(inv.callId)!;
    expect(ok.status).toBe(200);
    expect(env.agent('va-01').state).toBe('busy');
    await env.send(inDialog('ACK', inv, ok, 1));
    await env.send(inDialog('BYE', inv, ok, 2));
    expect(env.responses(inv.callId, 'BYE')[0]?.status).toBe(200);
    await env.send(inDialog('BYE', inv, ok, 2)); // a retransmitted BYE changes nothing
    expectWrappedUpOnce(env, 'va-01', 'T9', env.link.cc.termCodes.callerHungUp);
  });

  it('two INVITEs with the same Call-ID and different From tags: two calls, nothing leaks', async () => {
    const env = await setup();
    const a = invite({ callId: 'same@127.0.0.2', fromTag: 'alpha', platformId: 'TA' });
    const b = invite({ callId: 'same@127.0.0.2', fromTag: 'beta', to: '+18990000002', platformId: 'TB' });
    env.media.mode = 'hold';
    await env.send(a.text);
    await env.send(b.text);
    env.media.releaseOpen();
    await env.settle();
    const oks = env.responses('same@127.0.0.2').filter((r) => r.status === 200);
    expect(oks.map((r) => r.headers.get('From'))).toEqual([expect.stringContaining('alpha'), expect.stringContaining('beta')]);
    expect(env.manager.calls.size).toBe(2);
    expect(new Set(env.media.sessions.map((s) => s.request.callId)).size).toBe(2);
    for (const [inv, ok] of [[a, oks[0]!], [b, oks[1]!]] as const) {
      await env.send(inDialog('ACK', inv, ok, 1));
      await env.send(inDialog('BYE', inv, ok, 2));
    }
    expectWrappedUpOnce(env, 'va-01', 'TA', env.link.cc.termCodes.callerHungUp);
    expectWrappedUpOnce(env, 'va-02', 'TB', env.link.cc.termCodes.callerHungUp);
  });

  it('the same Call-ID and From tag in a new transaction while the call is up: 482 (merged request)', async () => {
    const env = await setup();
    const a = invite({ callId: 'merged@127.0.0.2', fromTag: 'same', platformId: 'TM' });
    await env.send(a.text);
    const again = invite({ callId: 'merged@127.0.0.2', fromTag: 'same', to: '+18990000002' });
    await env.send(again.text);
    expect(env.responses('merged@127.0.0.2').filter((r) => r.status >= 200).map((r) => r.status)).toEqual([200, 482]);
    expect(env.agent('va-02').state).toBe('ready');
  });
});

/** Answer a call and ACK it; returns the 200 and the fake media session. */
async function answeredCall(env: Env, o: Parameters<typeof invite>[0]) {
  const inv = invite(o);
  await env.send(inv.text);
  const ok = env.finalOf(inv.callId)!;
  expect(ok.status).toBe(200);
  await env.send(inDialog('ACK', inv, ok, 1));
  const session = env.media.sessions.find((s) => s.request.meta.sipCallId === inv.callId && !s.closed)!;
  return { inv, ok, session };
}

/** Answer the gateway's in-dialog request (method) with `status`. */
async function answerRequest(env: Env, method: string, status: number) {
  const req = [...env.received].reverse().find((m) => m.type === 'request' && m.method === method)!;
  expect(req).toBeDefined();
  const h = req.headers;
  const res = [`SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Declined'}`, ...h.getAll('Via').map((v) => `Via: ${v}`), `From: ${h.get('From')}`, `To: ${h.get('To')}`, `Call-ID: ${h.get('Call-ID')}`, `CSeq: ${h.get('CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n');
  await env.send(res);
}

describe('CallManager: the end of an answered call', () => {
  it('engine hang-up ends in one order: BYE with its Reason, media closed, then term code and Ready', async () => {
    const env = await setup();
    const { inv, session } = await answeredCall(env, { platformId: 'TE' });
    const order: string[] = [];
    const setTermCode = env.adapter.setTermCode.bind(env.adapter);
    env.adapter.setTermCode = async (a, ids, code) => {
      order.push(`termCode (media closed: ${session.closed}, BYE sent: ${env.received.some((m) => m.type === 'request' && m.method === 'BYE')})`);
      return setTermCode(a, ids, code);
    };
    session.onControl!({ type: 'hangup', termCode: 'Resolved' });
    await env.settle();
    const bye = env.received.find((m) => m.type === 'request' && m.method === 'BYE')!;
    expect(bye.headers.get('Reason')).toMatch(/Virtual agent ended the call/);
    expect(order).toEqual(['termCode (media closed: true, BYE sent: true)']);
    await answerRequest(env, 'BYE', 200);
    expect(env.adapter.calls).toEqual(['termCode va-01 TE Resolved', 'ready va-01']);
    expect(session.closeReason).toBe('engine-hangup');
    expect(env.manager.calls.has(inv.callId)).toBe(false);
    expectWrappedUpOnce(env, 'va-01', 'TE', 'Resolved');
  });

  it('a REFER the caller side declines: the engine is told, the call goes on; the next try succeeds and ends it', async () => {
    const env = await setup();
    const { session } = await answeredCall(env, { platformId: 'TR' });
    session.onControl!({ type: 'transfer', target: 'sip:+15550100100@127.0.0.9' });
    await env.settle();
    const refer = env.received.find((m) => m.type === 'request' && m.method === 'REFER')!;
    expect(refer.headers.get('Refer-To')).toBe('<sip:+15550100100@127.0.0.9>');
    await answerRequest(env, 'REFER', 603);
    expect(session.errors).toEqual([{ code: 'transfer-failed', message: expect.stringContaining('603') }]);
    expect(env.manager.calls.size).toBe(1);
    expect(env.adapter.calls).toEqual([]);
    session.onControl!({ type: 'transfer', target: 'sip:+15550100100@127.0.0.9' });
    await env.settle();
    // RFC 3515 §2.4.4: the REFER's NOTIFY, even before its 2xx, belongs to the dialog: 200, not 405.
    const refer2 = [...env.received].reverse().find((m) => m.type === 'request' && m.method === 'REFER')!;
    const h = refer2.headers;
    await env.send([`NOTIFY sip:+18990000001@127.0.0.1:5060 SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-notify-${++seq}`, 'Max-Forwards: 70', `From: ${h.get('To')}`, `To: ${h.get('From')}`, `Call-ID: ${h.get('Call-ID')}`, 'CSeq: 7 NOTIFY', 'Event: refer', 'Subscription-State: terminated;reason=noresource', 'Content-Type: message/sipfrag;version=2.0', 'Content-Length: 16', '', 'SIP/2.0 200 OK\r\n'].join('\r\n'));
    expect(env.responses(h.get('Call-ID')!, 'NOTIFY')[0]?.status).toBe(200);
    await answerRequest(env, 'REFER', 200);
    await answerRequest(env, 'BYE', 200);
    expectWrappedUpOnce(env, 'va-01', 'TR', env.link.cc.termCodes.transferred);
  });

  it('a contact-center transfer that fails: the engine is told and the call goes on', async () => {
    const env = await setup();
    const { session } = await answeredCall(env, { platformId: 'TV' });
    env.adapter.transfer = async () => {
      throw new Error('the human did not join within 30000 ms');
    };
    session.onControl!({ type: 'transfer', phonebook: 'Human Agents' });
    await env.settle();
    expect(session.errors).toEqual([{ code: 'transfer-failed', message: 'the human did not join within 30000 ms' }]);
    expect(env.manager.calls.size).toBe(1);
  });

  it('drain: new INVITEs get 503, calls still up after the timeout are ended with BYE, each wrapped up once', async () => {
    const env = await setup();
    await answeredCall(env, { platformId: 'DA' });
    await answeredCall(env, { to: '+18990000002', platformId: 'DB' });
    const drained = env.manager.drain(1000);
    const late = invite({ to: '+18990000003', platformId: 'DC' });
    await env.send(late.text);
    expect(env.finalOf(late.callId)?.status).toBe(503);
    await env.clock.run(1200, 100);
    const byes = env.received.filter((m) => m.type === 'request' && m.method === 'BYE');
    expect(byes).toHaveLength(2);
    for (const b of byes) expect(b.headers.get('Reason')).toMatch(/shutting down/);
    for (let i = 0; i < 2; i++) {
      const req = byes[i]!;
      const h = req.headers;
      await env.send([`SIP/2.0 200 OK`, ...h.getAll('Via').map((v) => `Via: ${v}`), `From: ${h.get('From')}`, `To: ${h.get('To')}`, `Call-ID: ${h.get('Call-ID')}`, `CSeq: ${h.get('CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n'));
    }
    await drained;
    expectWrappedUpOnce(env, 'va-01', 'DA', env.link.cc.termCodes.completed);
    expectWrappedUpOnce(env, 'va-02', 'DB', env.link.cc.termCodes.completed);
    expect(env.adapter.calls.some((c) => c.includes('DC'))).toBe(false);
  });
});

describe('CallManager: actions a contact center asks for', () => {
  it("answer policy 'on-accept': rings until the platform accepts, then answers", async () => {
    const env = await setup({ answer: 'on-accept' });
    const inv = invite({ platformId: 'TC' });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)).toBeUndefined();
    const outcomes: unknown[] = [];
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'accept' }, respond: (o) => outcomes.push(o) }, env.link);
    await env.settle();
    const ok = env.finalOf(inv.callId)!;
    expect(ok.status).toBe(200);
    await env.send(inDialog('ACK', inv, ok, 1));
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'accept' }, respond: (o) => outcomes.push(o) }, env.link);
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-02', action: { kind: 'hold' }, respond: (o) => outcomes.push(o) }, env.link);
    expect(outcomes).toEqual([{ ok: true }, { ok: false, status: 409, reason: expect.stringContaining('not waiting') }, { ok: false, status: 404, reason: expect.stringContaining('va-02') }]);
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'end', termCode: 'Sale' }, respond: (o) => outcomes.push(o) }, env.link);
    await env.settle();
    expect(env.received.some((m) => m.type === 'request' && m.method === 'BYE')).toBe(true);
    expect(env.adapter.calls).toEqual(['termCode va-01 TC Sale', 'ready va-01']);
  });

  it("answer policy 'on-accept' and no accept: 480 after the bound, one wrap-up", async () => {
    const env = await setup({ answer: 'on-accept' });
    const inv = invite({ platformId: 'TD' });
    await env.send(inv.text);
    await env.clock.run(31_000, 1000);
    expect(env.finalOf(inv.callId)?.status).toBe(480);
    expectWrappedUpOnce(env, 'va-01', 'TD', env.link.cc.termCodes.failed);
  });
});
