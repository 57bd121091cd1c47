/**
 * The gateway as a carrier sees it, through a hand-driven SIP peer over loopback UDP: refusals
 * with actionable reasons, RTP echoed back, hold/resume, INFO DTMF, metrics and drain.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseSdp } from 'sdp-transform';
import type { RunningGateway } from '../../src/server.js';
import type { SipResponse } from '../../src/sip/message.js';
import { inDialog, invite, isFinal, isRequest, isResponse, OFFER, SipPeer, toTag, type DialogRef } from '../helpers/sip-peer.js';
import { startFixture } from '../helpers/gateway.js';

let gw: RunningGateway;
let peer: SipPeer;
const LV = 25070;
let n = 0;
const ref = (number: string): DialogRef => ({ callId: `it-${++n}-${Date.now()}`, number, fromTag: `f${n}`, cseq: 1 });

beforeAll(async () => {
  gw = await startFixture('it-gateway.yaml');
  peer = await SipPeer.open();
});
afterAll(async () => {
  peer.close();
  await gw.shutdown(0);
});

async function call(number: string, port = LV, sdp = OFFER(7000)): Promise<{ d: DialogRef; ok: SipResponse }> {
  const d = ref(number);
  peer.send(invite(peer, d, sdp), port);
  // Match on Call-ID: a retransmitted 2xx of an earlier call may still sit in the inbox.
  const ok = (await peer.next((m) => isFinal('INVITE')(m) && m.headers.get('Call-ID') === d.callId)) as SipResponse;
  if (ok.status !== 200) return { d, ok };
  d.toTag = toTag(ok);
  peer.send(inDialog(peer, { ...d }, 'ACK'), port);
  return { d, ok };
}

async function hangup(d: DialogRef, port = LV): Promise<void> {
  d.cseq++;
  peer.send(inDialog(peer, d, 'BYE'), port);
  await peer.next(isResponse(200, 'BYE'));
}

describe('refusals carry a status and a reason a carrier engineer can act on', () => {
  it('404 for a number no agent has', async () => {
    const { ok } = await call('+18997777777');
    expect([ok.status, ok.reason]).toEqual([404, 'No virtual agent at +18997777777 on profile lv']);
  });

  it('480 for an agent that is not Ready', async () => {
    const { ok } = await call('+18990000009');
    expect([ok.status, ok.reason]).toEqual([480, 'Virtual agent lv-nr is not ready']);
  });

  it('486 for an agent already on a call, and the same agent again once it is free', async () => {
    const first = await call('+18990000001');
    expect(first.ok.status).toBe(200);
    const second = await call('+18990000001');
    expect([second.ok.status, second.ok.reason]).toEqual([486, 'Virtual agent lv-01 is on another call']);
    await hangup(first.d);
    await expect.poll(() => gw.agents.find('lv', '18990000001')!.state).toBe('ready');
    const third = await call('18990000001');
    expect(third.ok.status).toBe(200);
    await hangup(third.d);
  });

  it('403 for a source outside the profile trusted CIDRs when the profile answers them (edge.untrusted: reject)', async () => {
    const { ok } = await call('+18990000301', 25076);
    expect([ok.status, ok.reason]).toEqual([403, 'Source 127.0.0.1 not trusted by profile closed']);
  });

  it('nothing at all for an untrusted source by default: no 100, no 403, no OPTIONS 200, no TCP session; counted', async () => {
    const before = gw.calls.sipStats.untrustedDropped;
    const d = ref('+18990000401');
    peer.send(invite(peer, d, OFFER(7000)), 25078);
    peer.send(inDialog(peer, { ...d, cseq: 2 }, 'OPTIONS'), 25078);
    await expect.poll(() => gw.calls.sipStats.untrustedDropped).toBe(before + 2);
    const tcp = net.connect(25078, '127.0.0.1');
    const closed = await new Promise<boolean>((resolve) => {
      tcp.on('close', () => resolve(true));
      tcp.on('error', () => undefined);
    });
    expect(closed).toBe(true);
    expect(gw.calls.sipStats.untrustedDropped).toBe(before + 3);
    // A trusted request sent after them is answered; nothing ever came back for the ignored ones.
    const probe = await call('+18997777778');
    expect(probe.ok.status).toBe(404);
    expect(peer.inbox.some((m) => m.headers.get('Call-ID') === d.callId)).toBe(false);
  });

  it('488 naming the codecs when there is none in common', async () => {
    const { ok } = await call('+18990000002', LV, OFFER(7000, '18').replace(/a=rtpmap:0.*\n/, 'a=rtpmap:18 G729/8000\n'));
    expect(ok.status).toBe(488);
    expect(ok.reason).toMatch(/^No common codec: offer has G729,TELEPHONE-EVENT|^No common codec: offer has G729/);
    expect(gw.agents.find('lv', '18990000002')!.state).toBe('ready');
  });

  it('503 with Retry-After beyond the concurrent call limit', async () => {
    gw.calls.draining = true;
    const { ok } = await call('+18990000003');
    gw.calls.draining = false;
    expect([ok.status, ok.reason, ok.headers.get('Retry-After')]).toEqual([503, 'Gateway draining for shutdown', '7']);
  });
});

describe('an answered call', () => {
  it('echoes RTP back to where it came from: our SSRC, paced 20 ms, the caller payload intact', async () => {
    const rtp = dgram.createSocket('udp4');
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r));
    const { d, ok } = await call('+18990000004', LV, OFFER(rtp.address().port));
    const answer = parseSdp(ok.body.toString());
    const port = answer.media[0]!.port;
    expect(answer.media[0]!.rtp.map((r) => r.codec)).toEqual(['PCMU', 'telephone-event']);
    const got: Buffer[] = [];
    rtp.on('message', (m) => got.push(m));
    for (let i = 0; i < 5; i++) {
      const p = Buffer.alloc(172);
      p[0] = 0x80;
      p[1] = 0;
      p.writeUInt16BE(100 + i, 2);
      p.writeUInt32BE(160 * i, 4);
      p.writeUInt32BE(0x11223344, 8);
      p.fill(0x55, 12);
      rtp.send(p, port, '127.0.0.1');
    }
    // Garbage (RTP version 1) is dropped, not echoed.
    rtp.send(Buffer.from([0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]), port, '127.0.0.1');
    const echoed = (): Buffer[] => got.filter((p) => p.subarray(12).every((b) => b === 0x55));
    await expect.poll(() => echoed().length).toBe(5);
    // Between the echoed frames the pacer sends silence: one SSRC (ours), consecutive sequence.
    expect(new Set(got.map((p) => p.readUInt32BE(8)))).toEqual(new Set([got[0]!.readUInt32BE(8)]));
    expect(got[0]!.readUInt32BE(8)).not.toBe(0x11223344);
    for (let i = 1; i < got.length; i++) expect((got[i]!.readUInt16BE(2) - got[i - 1]!.readUInt16BE(2)) & 0xffff).toBe(1);
    await hangup(d);
    rtp.close();
  });

  it('answers hold with recvonly, inactive with inactive and resume with sendrecv (RFC 3264 §8.4)', async () => {
    const { d } = await call('+18990000005');
    const c = gw.calls.calls.get(d.callId)!;
    for (const [offered, answered, state] of [
      ['sendonly', 'recvonly', 'held'],
      ['inactive', 'inactive', 'held'],
      ['sendrecv', 'sendrecv', 'active'],
    ] as const) {
      d.cseq++;
      peer.send(invite(peer, d, OFFER(7000).replace('a=sendrecv', `a=${offered}`)), LV);
      const ok = (await peer.next(isResponse(200, 'INVITE'))) as SipResponse;
      expect(ok.body.toString()).toContain(`a=${answered}\r\n`);
      peer.send(inDialog(peer, d, 'ACK'), LV);
      expect(c.state).toBe(state);
    }
    await hangup(d);
  });

  it('takes DTMF in SIP INFO (application/dtmf-relay) and refuses other INFO bodies with 415', async () => {
    const { d } = await call('+18990000006');
    const c = gw.calls.calls.get(d.callId)!;
    const digits: string[] = [];
    c.events$.subscribe((e) => e.type === 'dtmf' && digits.push(e.digit.digit));
    d.cseq++;
    peer.send(inDialog(peer, d, 'INFO', 'Content-Type: application/dtmf-relay\n') + 'Signal=7\nDuration=160\n', LV);
    await peer.next(isResponse(200, 'INFO'));
    d.cseq++;
    peer.send(inDialog(peer, d, 'INFO', 'Content-Type: text/plain\n') + 'hello', LV);
    await peer.next(isResponse(415, 'INFO'));
    expect(digits).toEqual(['7']);
    await hangup(d);
  });

  it('ends a call at the profile maximum duration with a BYE carrying a Reason', async () => {
    const { d } = await call('+18990000101', 25072);
    const bye = await peer.next(isRequest('BYE'), 4000);
    expect(bye.headers.get('Reason')).toBe('Q.850;cause=16;text="Maximum call duration reached"');
    expect(bye.headers.get('Call-ID')).toBe(d.callId);
  });
});

describe('bad input on TCP', () => {
  it('closes a connection that sends an endless header section, and counts it', async () => {
    const before = gw.calls.sipStats.framingErrors;
    const sock = net.connect(LV, '127.0.0.1');
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const junk = Buffer.alloc(4096, 'A');
    for (let i = 0; i < 8 && !sock.destroyed; i++) sock.write(junk);
    await closed;
    expect(gw.calls.sipStats.framingErrors).toBe(before + 1);
  });

  it('answers a garbled request on TCP with 400 and keeps the connection', async () => {
    const sock = net.connect(LV, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    const bad = 'OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-tcpbad\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: tcpbad\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
    sock.write(bad);
    await expect.poll(() => got).toMatch(/^SIP\/2.0 400 CSeq method INVITE does not match OPTIONS\r\n/);
    const good = bad.replace('CSeq: 1 INVITE', 'CSeq: 2 OPTIONS').replace('tcpbad\r\nCSeq', 'tcpgood\r\nCSeq').replace('z9hG4bK-tcpbad', 'z9hG4bK-tcpgood');
    sock.write(good);
    await expect.poll(() => got).toMatch(/SIP\/2.0 200 OK/);
    sock.destroy();
  });
});

describe('REST control API', () => {
  const api = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${gw.httpPort}${path}`, init);
  const post = (path: string, body: unknown) => api(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('lists calls with status and actionsPossible, and applies only possible actions', async () => {
    const { d } = await call('+18990000007');
    const listed = (await (await api('/calls')).json()) as { calls: { callId: string; status: string; actionsPossible: string[] }[] };
    const mine = listed.calls.find((c) => c.callId === d.callId)!;
    expect(mine).toMatchObject({ status: 'TALKING', actionsPossible: ['RELEASE_CALL', 'HOLD', 'SINGLE_STEP_TRANSFER', 'SEND_DTMF'] });

    const refused = await post(`/calls/${encodeURIComponent(d.callId)}/actions`, { action: 'RETRIEVE' });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ status: 'TALKING', actionsPossible: ['RELEASE_CALL', 'HOLD', 'SINGLE_STEP_TRANSFER', 'SEND_DTMF'] });

    const held = await post(`/calls/${encodeURIComponent(d.callId)}/actions`, { action: 'HOLD' });
    expect([held.status, ((await held.json()) as { status: string }).status]).toEqual([202, 'HELD']);
    const back = await post(`/calls/${encodeURIComponent(d.callId)}/actions`, { action: 'RETRIEVE' });
    expect(((await back.json()) as { status: string }).status).toBe('TALKING');
    expect((await post(`/calls/${encodeURIComponent(d.callId)}/actions`, { action: 'SEND_DTMF', digits: 'x' })).status).toBe(400);
    expect((await post('/calls/nope/actions', { action: 'HOLD' })).status).toBe(404);
    // A call id that is not valid percent-encoding: 400 naming the problem, not a 500.
    const bad = await post('/calls/%ZZ/actions', { action: 'HOLD' });
    expect([bad.status, ((await bad.json()) as { error: string }).error]).toEqual([400, 'malformed percent-encoding in the path "/calls/%ZZ/actions"']);

    const released = await post(`/calls/${encodeURIComponent(d.callId)}/actions`, { action: 'RELEASE_CALL' });
    expect(released.status).toBe(202);
    const bye = await peer.next((m) => isRequest('BYE')(m) && m.headers.get('Call-ID') === d.callId);
    expect(bye.headers.get('Reason')).toContain('Virtual agent ended the call');
    // The record names who ended it: the REST API and its caller.
    const after = (await (await api(`/calls/${encodeURIComponent(d.callId)}`)).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ status: 'IDLE', endReason: 'api-release', endedBy: 'api:127.0.0.1' });
  });

  it("the final record after the end: the media plane's final counters (RTP, DTMF) in /calls/{id}, the log line and /metrics", async () => {
    const rtp = dgram.createSocket('udp4');
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r));
    const { d, ok } = await call('+18990000007', LV, OFFER(rtp.address().port));
    const port = parseSdp(ok.body.toString()).media[0]!.port;
    const packet = (i: number, pt: number, payload: Buffer): Buffer => {
      const h = Buffer.alloc(12);
      h[0] = 0x80;
      h[1] = pt | (pt === 101 && i === 0 ? 0x80 : 0);
      h.writeUInt16BE(300 + i, 2);
      h.writeUInt32BE(pt === 101 ? 8000 : 160 * i, 4);
      h.writeUInt32BE(0x55667788, 8);
      return Buffer.concat([h, payload]);
    };
    for (let i = 0; i < 10; i++) rtp.send(packet(i, 0, Buffer.alloc(160, 0xff)), port, '127.0.0.1');
    // One RFC 4733 digit '5': start, then the end packet (E bit), duration 800.
    for (let i = 0; i < 3; i++) rtp.send(packet(i, 101, Buffer.from([5, i === 2 ? 0x8a : 0x0a, 0x03, 0x20])), port, '127.0.0.1');
    // The echo engine's audio coming back means the gateway took the caller's packets in.
    let echoed = 0;
    rtp.on('message', () => echoed++);
    await expect.poll(() => echoed, { timeout: 3000 }).toBeGreaterThan(5);
    const released = await api(`/calls/${encodeURIComponent(d.callId)}/actions`, { method: 'POST', body: JSON.stringify({ action: 'RELEASE_CALL' }), headers: { 'content-type': 'application/json', 'x-operator': 'supervisor-7' } });
    expect(released.status).toBe(202);
    await peer.next((m) => isRequest('BYE')(m) && m.headers.get('Call-ID') === d.callId);
    await expect
      .poll(async () => (await (await api(`/calls/${encodeURIComponent(d.callId)}`)).json()) as Record<string, unknown>, { timeout: 3000 })
      .toMatchObject({ status: 'IDLE', endReason: 'api-release', endedBy: 'api:127.0.0.1 (supervisor-7)', media: { packetsIn: 13, dtmfIn: 1, packetsOut: expect.any(Number) } });
    const metrics = await (await api('/metrics')).text();
    expect(metrics).toMatch(/^vagw_call_rtp_packets_total\{direction="in"\} ([1-9]\d+)$/m);
    expect(metrics).toMatch(/^vagw_call_dtmf_digits_total\{direction="in"\} [1-9]/m);
    rtp.close();
  });

  it('sets an agent NotReady so calls to it get 480, and Ready again', async () => {
    const r = await post('/agents/lv-08/state', { state: 'not-ready' });
    expect(r.status).toBe(200);
    expect((await call('+18990000008')).ok.status).toBe(480);
    await post('/agents/lv-08/state', { state: 'ready' });
    const again = await call('+18990000008');
    expect(again.ok.status).toBe(200);
    await hangup(again.d);
    const agents = (await (await api('/agents')).json()) as { agents: { id: string; state: string }[] };
    expect(agents.agents.find((a) => a.id === 'lv-08')).toBeDefined();
    expect((await post('/agents/lv-08/state', { state: 'sleepy' })).status).toBe(400);
  });
});

describe('observability', () => {
  it('serves /healthz and Prometheus /metrics', async () => {
    const h = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
    expect(h.status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(text).toMatch(/^vagw_invites_refused_total\{code="404"\} [1-9]/m);
    expect(text).toMatch(/^vagw_calls_answered_total [1-9]/m);
    expect(text).toMatch(/^vagw_sip_responses_sent_total\{code="100"\} [1-9]/m);
    expect(text).toContain('# TYPE vagw_sip_parse_errors_total counter');
    expect((await fetch(`http://127.0.0.1:${gw.httpPort}/nope`)).status).toBe(404);
  });
});
