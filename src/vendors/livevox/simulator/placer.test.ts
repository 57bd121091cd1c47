/**
 * The LiveVox simulator's call placer, two ways:
 * - against the real gateway (started in-process from test/fixtures/placer-gateway.yaml, every call
 *   bridged to builtin:echo): answer, echoed tone, customer and gateway hangups, refusals,
 *   CANCEL while ringing, and 200 calls at ~100 calls/s;
 * - against a hand-driven UAS (test/helpers/sip-peer.ts) for what the gateway never does on cue:
 *   the exact INVITE, Timer A/B, lost ACKs, the route set on BYE, hold, REFER, retransmitted
 *   requests, unknown methods.
 * Everything is loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSustainedTone } from '../../../../media/dsp/goertzel.js';
import type { SipMessage, SipRequest } from '../../../sip/message.js';
import { startFixture } from '../../../../test/helpers/gateway.js';
import { RtpCaller } from '../../../../test/helpers/rtp-caller.js';
import { isRequest, isResponse, OFFER, SipPeer } from '../../../../test/helpers/sip-peer.js';
import { waitFor } from '../../../../test/helpers/test-engine.js';
import dgram from 'node:dgram';
import { decodeMuLaw } from '../../../../media/codec/g711.js';
import { buildRtp } from '../../../../media/rtp-packet.js';
import { CallPlacer, type PlacedCall } from './placer.js';
import { RtpStream } from '../../sandbox/media.js';

const LV = 25470;
const SHORT = 25472;
const RING = 25474;
const BULK = 25476;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const heardTone = (s: Int16Array, hz: number, minMs: number): boolean => hasSustainedTone(s, hz, minMs, 0.6);

let seq = 0;
const ids = () => ({ transactionId: `1088216768${String(++seq).padStart(2, '0')}`, sessionId: `U5EF8FT5DFC07F${seq}@10.101.21.216` });

describe('against the gateway (builtin:echo)', () => {
  let gw: Awaited<ReturnType<typeof startFixture>>;
  const placers: Record<string, CallPlacer> = {};

  beforeAll(async () => {
    gw = await startFixture('placer-gateway.yaml');
    for (const [name, port] of [['lv', LV], ['short', SHORT], ['ring', RING], ['bulk', BULK]] as const) {
      placers[name] = await CallPlacer.start({ gateway: { host: '127.0.0.1', port } });
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(placers).map((p) => p.close()));
    await gw?.shutdown(0);
  });

  it('places a LiveVox-shaped call that is answered, hears its 1 kHz tone echoed, and hangs up', async () => {
    const p = placers['lv']!;
    const call = p.place({ number: '+18990000001', ...ids(), agentLoginId: 'va-01', dnis: '8005550100', audio: { toneHz: 1000, amplitude: 10000 } });
    expect(call.state).toBe('inviting');
    await expect(call.answered).resolves.toEqual({ status: 200, reason: 'OK' });
    expect(call.state).toBe('answered');
    expect(p.active).toBe(1);
    expect(gw.calls.calls.get(call.callId)?.info.agentId).toBe('lv-01');
    await waitFor(() => heardTone(call.receivedSamples(), 1000, 300), 4000, 'the echoed 1 kHz tone');
    expect(heardTone(call.receivedSamples(), 1600, 100)).toBe(false);
    expect(call.rtp.localPort).toBeGreaterThan(0);
    expect(call.rtp.sent).toBeGreaterThan(10);
    expect(call.rtp.received).toBeGreaterThan(10);

    await call.hangup();
    await expect(call.ended).resolves.toEqual({ by: 'customer' });
    expect(call.state).toBe('ended');
    await call.hangup(); // idempotent
    await expect.poll(() => gw.calls.calls.has(call.callId)).toBe(false);
    expect(p.active).toBe(0);
    expect(p.stats).toMatchObject({ answered: 1, endedByCustomer: 1, hangupErrors: 0 });
  });

  it('sees the gateway hang up at maxCallSeconds, with its Reason', async () => {
    const p = placers['short']!;
    const t0 = performance.now();
    const call = p.place({ number: '+18990000101', ...ids() });
    await call.answered;
    await expect(call.ended).resolves.toEqual({ by: 'gateway', reason: 'Q.850;cause=16;text="Maximum call duration reached"' });
    expect(performance.now() - t0).toBeGreaterThan(900);
    expect(call.state).toBe('ended');
    expect(p.stats.endedByGateway).toBe(1);
    await call.hangup(); // nothing left to hang up
    expect(p.stats.hangupErrors).toBe(0);
  });

  it('rejects `answered` with the status and reason of a refusal (404 for an unknown number)', async () => {
    const p = placers['lv']!;
    const call = p.place({ number: '+18997777777', ...ids() });
    await expect(call.answered).rejects.toThrow(/^404 No virtual agent at \+18997777777 on profile lv$/);
    await expect(call.ended).resolves.toEqual({ by: 'failed', reason: '404 No virtual agent at +18997777777 on profile lv' });
    expect(call.state).toBe('failed');
    expect(p.stats.failed).toBe(1);
  });

  it('cancels a call that is still ringing when the customer hangs up', async () => {
    const p = placers['ring']!;
    const call = p.place({ number: '+18990000201', ...ids() });
    await sleep(300); // 100 Trying is in; the agent answers only after 3 s
    await call.hangup();
    await expect(call.answered).rejects.toThrow(/^487 /);
    await expect(call.ended).resolves.toEqual({ by: 'customer', reason: 'cancelled' });
    await expect.poll(() => gw.agents.find('ring', '18990000201')?.state).toBe('ready');
    expect(gw.calls.calls.size).toBe(0);
  });

  it('places 200 calls at ~100 calls/s: every one answered, carrying RTP both ways, and hung up cleanly', async () => {
    const p = placers['bulk']!;
    const calls: PlacedCall[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      const wait = t0 + i * 10 - performance.now();
      if (wait > 0) await sleep(wait);
      calls.push(p.place({ number: `+1899000${1001 + i}`, ...ids(), maxDurationMs: 1000 }));
    }
    const rate = 200 / ((performance.now() - t0) / 1000);
    expect(rate).toBeGreaterThan(70);
    const answers = await Promise.allSettled(calls.map((c) => c.answered));
    expect(answers.filter((a) => a.status === 'rejected').map((a) => String((a as PromiseRejectedResult).reason))).toEqual([]);
    const ends = await Promise.all(calls.map((c) => c.ended));
    expect(ends.every((e) => e.by === 'customer')).toBe(true);
    // hangup() of a call already hung up returns its BYE transaction: settled by the 200 (or Timer F).
    const t1 = performance.now();
    await Promise.all(calls.map((c) => c.hangup()));
    expect(performance.now() - t1).toBeLessThan(3000);
    await waitFor(() => gw.calls.calls.size === 0, 5000, 'the gateway to have no calls left');
    expect(p.stats).toEqual({ placed: 200, answered: 200, failed: 0, endedByGateway: 0, endedByCustomer: 200, hangupErrors: 0 });
    expect(p.active).toBe(0);
    for (const c of calls) {
      expect(c.rtp.sent).toBeGreaterThan(30);
      expect(c.rtp.received).toBeGreaterThan(10);
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Against a hand-driven UAS: exact messages and timers.

const UAS_TAG = 'uas1';

/** A response to `req` from the fake UAS. */
function response(req: SipMessage, status: number, reason: string, opts: { extra?: string; body?: string; tag?: boolean } = {}): string {
  const h = req.headers;
  const vias = h.lines('Via').map((v) => `Via: ${v}`).join('\n');
  const to = h.get('To')!;
  const toTag = opts.tag === false || /;tag=/.test(to) ? to : `${to};tag=${UAS_TAG}`;
  return `SIP/2.0 ${status} ${reason}\n${vias}\nFrom: ${h.get('From')}\nTo: ${toTag}\nCall-ID: ${h.get('Call-ID')}\nCSeq: ${h.get('CSeq')}\n${opts.extra ?? ''}Content-Length: {len}\n\n${opts.body ?? ''}`;
}

interface Uas {
  peer: SipPeer;
  rtp: RtpCaller;
  placer: CallPlacer;
}

async function openUas(t1 = 100): Promise<Uas> {
  const peer = await SipPeer.open();
  const rtp = await RtpCaller.open();
  const placer = await CallPlacer.start({ gateway: { host: '127.0.0.1', port: peer.port }, timers: { t1 } });
  return { peer, rtp, placer };
}

async function closeUas(u: Uas): Promise<void> {
  await u.placer.close(200);
  u.peer.close();
  u.rtp.close();
}

/** Answer the INVITE with 200 (Record-Route copied, Contact = the peer) and return the ACK. */
async function answerInvite(u: Uas, inv: SipRequest): Promise<SipRequest> {
  const rr = inv.headers.lines('Record-Route').map((r) => `Record-Route: ${r}\n`).join('');
  const ok = response(inv, 200, 'OK', {
    extra: `${rr}Contact: <sip:+18990000001@127.0.0.1:${u.peer.port}>\nContent-Type: application/sdp\n`,
    body: OFFER(u.rtp.port),
  });
  u.peer.send(ok, u.placer.sipPort);
  return (await u.peer.next(isRequest('ACK'))) as SipRequest;
}

let uasCseq = 5000;
/** An in-dialog request from the fake UAS to the placer. */
function uasRequest(u: Uas, inv: SipRequest, method: string, opts: { branch?: string; extra?: string; body?: string; cseq?: number } = {}): string {
  const cseq = opts.cseq ?? ++uasCseq;
  return `${method} sip:+13125550100@127.0.0.1:${u.placer.sipPort} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${u.peer.port};branch=${opts.branch ?? `z9hG4bK-uas-${method}-${cseq}`};rport
Max-Forwards: 70
From: ${inv.headers.get('To')};tag=${UAS_TAG}
To: ${inv.headers.get('From')}
Call-ID: ${inv.headers.get('Call-ID')}
CSeq: ${cseq} ${method}
${opts.extra ?? ''}Content-Length: {len}

${opts.body ?? ''}`;
}

/** The CSeq number (RFC 3261 §8.1.1.5: any start below 2**31; the stack picks one at random). */
const seqOf = (m: SipMessage): number => Number(m.headers.get('CSeq')!.split(' ')[0]);

const branchOf = (m: SipMessage): string => /branch=([^;\s]+)/.exec(m.headers.get('Via')!)![1]!;

describe('against a hand-driven UAS', () => {
  it('sends a LiveVox-shaped INVITE, retransmits it on Timer A until a provisional response, and re-ACKs a retransmitted 200', async () => {
    const u = await openUas(100);
    try {
      const call = u.placer.place({ number: '+18990000001', transactionId: '108821676850', sessionId: 'U5EF8FT5DFC07F9@10.101.21.216', agentLoginId: 'va-07', dnis: '8005550100', caller: '+15551230000' });
      const inv = (await u.peer.next(isRequest('INVITE'))) as SipRequest;
      const h = inv.headers;
      expect(inv.uri).toBe(`sip:+18990000001@127.0.0.1:${u.peer.port}`);
      expect(h.get('Via')).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${u.placer.sipPort};branch=z9hG4bK[^;]+;rport$`));
      expect(h.get('From')).toMatch(/^<sip:\+15551230000@127\.0\.0\.1>;tag=\S+$/);
      expect(h.get('To')).toBe(`<sip:+18990000001@127.0.0.1:${u.peer.port}>`);
      expect(h.get('Call-ID')).toBe(call.callId);
      expect(h.get('CSeq')).toMatch(/^\d+ INVITE$/);
      expect(h.get('Max-Forwards')).toBe('70');
      expect(h.get('Contact')).toBe(`<sip:+15551230000@127.0.0.1:${u.placer.sipPort}>`);
      expect(h.getAll('Record-Route')).toEqual([`<sip:127.0.0.1:${u.placer.sipPort};lr>`, '<sip:127.0.0.2:5998;lr>', '<sip:127.0.0.3:5998;lr>']);
      expect(h.get('X-transaction-id')).toBe('108821676850');
      expect(h.get('Session-ID')).toBe('U5EF8FT5DFC07F9@10.101.21.216');
      expect(h.get('X-agent-login-id')).toBe('va-07');
      expect(h.get('DNIS')).toBe('8005550100');
      expect(h.get('Content-Type')).toBe('application/sdp');
      const sdp = inv.body.toString();
      expect(call.rtp.localPort).toBeGreaterThan(0);
      for (const line of [`c=IN IP4 127.0.0.1`, `m=audio ${call.rtp.localPort} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv']) {
        expect(sdp).toContain(`${line}\r\n`);
      }

      // Timer A: the same INVITE again after T1, then 2*T1.
      const again = await u.peer.next(isRequest('INVITE'), 1000);
      expect(branchOf(again)).toBe(branchOf(inv));
      await u.peer.next(isRequest('INVITE'), 1000);
      u.peer.send(response(inv, 180, 'Ringing'), u.placer.sipPort);
      await sleep(50);
      u.peer.inbox.length = 0;
      await expect(u.peer.next(isRequest('INVITE'), 600)).rejects.toThrow();

      const ack = await answerInvite(u, inv);
      await expect(call.answered).resolves.toEqual({ status: 200, reason: 'OK' });
      expect(ack.uri).toBe(`sip:+18990000001@127.0.0.1:${u.peer.port}`);
      expect(ack.headers.get('CSeq')).toBe(`${seqOf(inv)} ACK`);
      expect(branchOf(ack)).not.toBe(branchOf(inv));
      expect(ack.headers.get('To')).toContain(`;tag=${UAS_TAG}`);
      // The route set is all proxies the placer plays itself: consumed on the way (RFC 3261 §16.4),
      // so what reaches the UAS carries no Route (a real proxy in front would keep its own entry).
      expect(ack.headers.getAll('Route')).toEqual([]);
      // The 200 again (our ACK "got lost"): the same ACK again.
      await answerInvite(u, inv);

      // Silence by default, paced 20 ms, to the address of the SDP answer.
      await waitFor(() => u.rtp.received.length >= 10, 2000, 'RTP from the placer');
      const pkts = u.rtp.received.slice(0, 10);
      expect(pkts.every((r) => r.pt === 0 && r.payload.length === 160 && r.payload.every((b) => b === 0xff))).toBe(true);
      for (let i = 1; i < pkts.length; i++) {
        expect((pkts[i]!.seq - pkts[i - 1]!.seq) & 0xffff).toBe(1);
        expect((pkts[i]!.ts - pkts[i - 1]!.ts) >>> 0).toBe(160);
      }
      expect(pkts[0]!.marker).toBe(true);
    } finally {
      await closeUas(u);
    }
  });

  it('answers in-dialog requests: hold and resume, INFO, OPTIONS, 405 for the unknown, a retransmitted BYE answered alike', async () => {
    const u = await openUas();
    try {
      const call = u.placer.place({ number: '+18990000001', transactionId: 't', sessionId: 's', audio: { toneHz: 1000 } });
      const inv = (await u.peer.next(isRequest('INVITE'))) as SipRequest;
      await answerInvite(u, inv);
      await call.answered;
      await waitFor(() => u.rtp.received.length >= 5, 2000, 'RTP');

      // Hold: sendonly offered -> recvonly answered, and the placer stops sending.
      u.peer.send(uasRequest(u, inv, 'INVITE', { extra: 'Content-Type: application/sdp\n', body: OFFER(u.rtp.port).replace('a=sendrecv', 'a=sendonly') }), u.placer.sipPort);
      const held = await u.peer.next(isResponse(200, 'INVITE'));
      expect(held.body.toString()).toContain('a=recvonly\r\n');
      expect(held.headers.get('Contact')).toBe(`<sip:+13125550100@127.0.0.1:${u.placer.sipPort}>`);
      // No ACK yet: the 200 is retransmitted (§13.3.1.4).
      await u.peer.next(isResponse(200, 'INVITE'), 1000);
      u.peer.send(uasRequest(u, inv, 'ACK', { cseq: uasCseq }), u.placer.sipPort);
      await sleep(100);
      const sentOnHold = call.rtp.sent;
      await sleep(300);
      expect(call.rtp.sent).toBe(sentOnHold);

      u.peer.send(uasRequest(u, inv, 'INVITE', { extra: 'Content-Type: application/sdp\n', body: OFFER(u.rtp.port) }), u.placer.sipPort);
      expect((await u.peer.next(isResponse(200, 'INVITE'))).body.toString()).toContain('a=sendrecv\r\n');
      u.peer.send(uasRequest(u, inv, 'ACK', { cseq: uasCseq }), u.placer.sipPort);
      await waitFor(() => call.rtp.sent > sentOnHold + 5, 2000, 'RTP after resume');

      u.peer.send(uasRequest(u, inv, 'INFO', { extra: 'Content-Type: application/dtmf-relay\n', body: 'Signal=5\nDuration=160\n' }), u.placer.sipPort);
      await u.peer.next(isResponse(200, 'INFO'));
      u.peer.send(uasRequest(u, inv, 'OPTIONS'), u.placer.sipPort);
      expect((await u.peer.next(isResponse(200, 'OPTIONS'))).headers.getAll('Allow')).toContain('REFER');
      u.peer.send(uasRequest(u, inv, 'MESSAGE', { extra: 'Content-Type: text/plain\n', body: 'hi' }), u.placer.sipPort);
      expect((await u.peer.next(isResponse(405, 'MESSAGE'))).headers.getAll('Allow')).toEqual(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'REFER', 'NOTIFY']);

      const bye = uasRequest(u, inv, 'BYE', { extra: 'Reason: Q.850;cause=16;text="Virtual agent ended the call"\n' });
      u.peer.send(bye, u.placer.sipPort);
      const first = await u.peer.next(isResponse(200, 'BYE'));
      await expect(call.ended).resolves.toEqual({ by: 'gateway', reason: 'Q.850;cause=16;text="Virtual agent ended the call"' });
      u.peer.send(bye, u.placer.sipPort);
      const second = await u.peer.next(isResponse(200, 'BYE'));
      expect(second.headers.get('To')).toBe(first.headers.get('To'));
      // A new request in the ended dialog names no dialog any more.
      u.peer.send(uasRequest(u, inv, 'INFO'), u.placer.sipPort);
      await u.peer.next(isResponse(481, 'INFO'));
      expect(u.placer.stats).toMatchObject({ answered: 1, endedByGateway: 1 });
    } finally {
      await closeUas(u);
    }
  });

  it("hangs up with BYE through the route set (the INVITE's CSeq + 1; its own proxies' entries consumed), retransmitted on Timer E", async () => {
    const u = await openUas(100);
    try {
      const call = u.placer.place({ number: '+18990000001', transactionId: 't', sessionId: 's', audio: 'none' });
      const inv = (await u.peer.next(isRequest('INVITE'))) as SipRequest;
      await answerInvite(u, inv);
      await call.answered;
      const done = call.hangup();
      const bye = (await u.peer.next(isRequest('BYE'))) as SipRequest;
      expect(call.state).toBe('ended');
      expect(bye.uri).toBe(`sip:+18990000001@127.0.0.1:${u.peer.port}`);
      expect(bye.headers.get('CSeq')).toBe(`${seqOf(inv) + 1} BYE`);
      expect(bye.headers.getAll('Route')).toEqual([]);
      expect(bye.headers.get('To')).toContain(`;tag=${UAS_TAG}`);
      const again = await u.peer.next(isRequest('BYE'), 1000);
      expect(branchOf(again)).toBe(branchOf(bye));
      u.peer.send(response(bye, 200, 'OK'), u.placer.sipPort);
      await done;
      await expect(call.ended).resolves.toEqual({ by: 'customer' });
      expect(call.rtp.sent).toBe(0);
      expect(u.placer.stats).toMatchObject({ endedByCustomer: 1, hangupErrors: 0 });
    } finally {
      await closeUas(u);
    }
  });

  it('takes a REFER as a transfer: 202, a NOTIFY with the outcome, ended by the gateway as transferred', async () => {
    const u = await openUas();
    try {
      const call = u.placer.place({ number: '+18990000001', transactionId: 't', sessionId: 's' });
      const inv = (await u.peer.next(isRequest('INVITE'))) as SipRequest;
      await answerInvite(u, inv);
      await call.answered;
      u.peer.send(uasRequest(u, inv, 'REFER', { extra: 'Refer-To: <sip:humans@127.0.0.1>\n' }), u.placer.sipPort);
      await u.peer.next(isResponse(202, 'REFER'));
      await expect(call.ended).resolves.toEqual({ by: 'gateway', reason: 'transferred', referTo: 'sip:humans@127.0.0.1' });
      const notify = (await u.peer.next(isRequest('NOTIFY'))) as SipRequest;
      expect(notify.headers.get('Event')).toBe('refer');
      expect(notify.body.toString()).toBe('SIP/2.0 200 OK\r\n');
      u.peer.send(response(notify, 200, 'OK'), u.placer.sipPort);
      // The gateway then leaves the dialog.
      u.peer.send(uasRequest(u, inv, 'BYE'), u.placer.sipPort);
      await u.peer.next(isResponse(200, 'BYE'));
    } finally {
      await closeUas(u);
    }
  });

  it('ACKs a refusal on the INVITE branch (again for its retransmission) and fails on Timer B when nothing answers', async () => {
    const u = await openUas(20);
    try {
      const busy = u.placer.place({ number: '+18990000002', transactionId: 't', sessionId: 's' });
      const inv = (await u.peer.next(isRequest('INVITE'))) as SipRequest;
      const refusal = response(inv, 486, 'Virtual agent lv-02 is on another call');
      u.peer.send(refusal, u.placer.sipPort);
      const ack = await u.peer.next(isRequest('ACK'));
      expect(branchOf(ack)).toBe(branchOf(inv));
      expect(ack.headers.get('CSeq')).toBe(`${seqOf(inv)} ACK`);
      expect(ack.headers.get('To')).toContain(`;tag=${UAS_TAG}`);
      await expect(busy.answered).rejects.toThrow('486 Virtual agent lv-02 is on another call');
      u.peer.send(refusal, u.placer.sipPort);
      await u.peer.next(isRequest('ACK'));

      const silent = u.placer.place({ number: '+18990000003', transactionId: 't', sessionId: 's' });
      await expect(silent.answered).rejects.toThrow(/^408 Request Timeout \(Timer B: no response within 1\.28 s\)$/);
      expect((await silent.ended).by).toBe('failed');
      // Timer A fired with doubling intervals until Timer B: 20, 40, ... 640 ms -> 7 sends.
      const sent = u.peer.inbox.filter((m) => m.type === 'request' && m.method === 'INVITE' && m.headers.get('Call-ID') === silent.callId).length;
      expect(sent).toBeGreaterThanOrEqual(6);
      expect(sent).toBeLessThanOrEqual(7);
      expect(u.placer.stats).toMatchObject({ placed: 2, failed: 2, answered: 0 });
    } finally {
      await closeUas(u);
    }
  });

  it('CANCELs a ringing call when the customer hangs up, and ACKs the 487', async () => {
    const u = await openUas();
    try {
      const call = u.placer.place({ number: '+18990000001', transactionId: 't', sessionId: 's' });
      const inv = (await u.peer.next(isRequest('INVITE'))) as SipRequest;
      u.peer.send(response(inv, 100, 'Trying', { tag: false }), u.placer.sipPort);
      await sleep(50);
      const done = call.hangup();
      const cancel = (await u.peer.next(isRequest('CANCEL'))) as SipRequest;
      expect(branchOf(cancel)).toBe(branchOf(inv));
      expect(cancel.uri).toBe(inv.uri);
      expect(cancel.headers.get('CSeq')).toBe(`${seqOf(inv)} CANCEL`);
      u.peer.send(response(cancel, 200, 'OK'), u.placer.sipPort);
      u.peer.send(response(inv, 487, 'Request Terminated'), u.placer.sipPort);
      const ack = await u.peer.next(isRequest('ACK'));
      expect(branchOf(ack)).toBe(branchOf(inv));
      await done;
      await expect(call.answered).rejects.toThrow(/^487 Request Terminated/);
      await expect(call.ended).resolves.toEqual({ by: 'customer', reason: 'cancelled' });

      // The 200 crosses the CANCEL: the session exists, so it is ACKed and ended with BYE (§15);
      // for the customer the call was still cancelled.
      const late = u.placer.place({ number: '+18990000002', transactionId: 't', sessionId: 's' });
      const inv2 = (await u.peer.next(isRequest('INVITE'))) as SipRequest;
      u.peer.send(response(inv2, 180, 'Ringing'), u.placer.sipPort);
      await sleep(50);
      const hungUp = late.hangup();
      const cancel2 = (await u.peer.next(isRequest('CANCEL'))) as SipRequest;
      u.peer.send(response(cancel2, 200, 'OK'), u.placer.sipPort);
      const ack2 = await answerInvite(u, inv2);
      expect(ack2.headers.get('CSeq')).toBe(`${seqOf(inv2)} ACK`);
      await expect(late.answered).rejects.toThrow(/^200 Answered while cancelling/);
      const bye = (await u.peer.next(isRequest('BYE'))) as SipRequest;
      expect(bye.headers.get('Call-ID')).toBe(late.callId);
      u.peer.send(response(bye, 200, 'OK'), u.placer.sipPort);
      await hungUp;
      await expect(late.ended).resolves.toEqual({ by: 'customer', reason: 'cancelled' });
      expect(u.placer.stats).toMatchObject({ placed: 2, answered: 0, endedByCustomer: 2, failed: 0, hangupErrors: 0 });
    } finally {
      await closeUas(u);
    }
  });
});

describe('RtpStream', () => {
  it('counts what it receives and keeps only the newest decoded PCMU, in order', async () => {
    for (const [keep, n] of [[400, 5], [100, 5], [8200, 60]] as const) {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      const counters = { sent: 0, received: 0, localPort: sock.address().port };
      const stream = new RtpStream(sock, counters, null, keep);
      const tx = dgram.createSocket('udp4');
      const payload = (k: number): Buffer => Buffer.alloc(160, 0x10 + k);
      const ks = Array.from({ length: n }, (_, i) => i + 1);
      for (const k of ks) {
        tx.send(buildRtp({ payloadType: 0, marker: false, sequence: k, timestamp: 160 * k, ssrc: 7 }, payload(k)), counters.localPort, '127.0.0.1');
        if (k % 20 === 0) await waitFor(() => counters.received === k, 2000, `${k} packets`);
      }
      tx.send(buildRtp({ payloadType: 101, marker: true, sequence: n + 1, timestamp: 160 * (n + 1), ssrc: 7 }, Buffer.from([1, 0, 0, 160])), counters.localPort, '127.0.0.1');
      await waitFor(() => counters.received === n + 1, 2000, 'every packet');
      const all = Buffer.concat(ks.map(payload));
      expect(Array.from(stream.samples())).toEqual(Array.from(decodeMuLaw(all.subarray(all.length - keep))));
      stream.close();
      tx.close();
    }
  });
});
