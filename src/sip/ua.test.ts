/**
 * UA core and dialog behaviour over a real loopback UDP socket (the peer is a raw socket that
 * writes SIP by hand), with a fake clock for the RFC 3261 timers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import type { SipRequest, SipResponse } from './message.js';
import type { IncomingInvite, UserAgent } from './ua.js';
import { isReq, isRes, silentLog, startUa } from '../../test/helpers/sip-ua-harness.js';
import type { Dialog } from './dialog.js';

const log = silentLog;
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

const setup = (clock = new FakeClock()) => startUa(cleanup, clock);

function invite(peerPort: number, opts: { callId?: string; extra?: string; rr?: string; body?: string } = {}): string {
  const body = opts.body ?? SDP;
  return `INVITE sip:+18990000001@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-inv-${opts.callId ?? 'c1'}
${opts.rr ?? ''}From: <sip:caller@127.0.0.1>;tag=ft
To: <sip:+18990000001@127.0.0.1>
Call-ID: ${opts.callId ?? 'c1'}
CSeq: 10 INVITE
Contact: <sip:caller@127.0.0.1:${peerPort}>
Max-Forwards: 70
${opts.extra ?? ''}Content-Type: application/sdp
Content-Length: ${Buffer.byteLength(body)}

${body}`;
}

function ack(peerPort: number, toTag: string, cseq = 10, callId = 'c1'): string {
  return `ACK sip:+18990000001@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-ack-${cseq}
From: <sip:caller@127.0.0.1>;tag=ft
To: <sip:+18990000001@127.0.0.1>;tag=${toTag}
Call-ID: ${callId}
CSeq: ${cseq} ACK
Content-Length: 0

`;
}

function acceptAll(ua: UserAgent, sdp = SDP): Promise<Dialog> {
  return new Promise((resolve) => ua.on('invite', (inv: IncomingInvite) => resolve(inv.accept(sdp, log))));
}

describe('UAS core', () => {
  it('answers 100 then 200 with Record-Route copied, a To tag and a Contact (§12.1.1)', async () => {
    const { ep, ua, peer } = await setup();
    const dlg = acceptAll(ua);
    peer.send(invite(peer.port, { rr: 'Record-Route: <sip:127.0.0.1:' + peer.port + ';lr>, <sip:10.1.1.1;lr>\nRecord-Route: <sip:10.2.2.2;lr>\n' }), ep.port);
    await peer.next(isRes(100));
    const ok = (await peer.next(isRes(200))) as SipResponse;
    expect(ok.headers.getAll('Record-Route')).toEqual([`<sip:127.0.0.1:${peer.port};lr>`, '<sip:10.1.1.1;lr>', '<sip:10.2.2.2;lr>']);
    expect(ok.headers.get('To')).toMatch(/;tag=\S+/);
    expect(ok.headers.get('Contact')).toBe(`<sip:+18990000001@127.0.0.1:${ep.port}>`);
    // §18.2.1: sent-by equals the source address and no rport was asked for: Via unchanged.
    expect(ok.headers.get('Via')).toBe(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-inv-c1`);
    await dlg;
  });

  it('fills rport and received when asked (RFC 3581 §4) and answers to that address', async () => {
    const { ep, ua, peer } = await setup();
    const dlg = acceptAll(ua);
    const inv = invite(peer.port).replace(`Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-inv-c1`, 'Via: SIP/2.0/UDP 192.0.2.9:5099;rport;branch=z9hG4bK-inv-c1');
    peer.send(inv, ep.port);
    const ok = (await peer.next(isRes(200))) as SipResponse;
    expect(ok.headers.get('Via')).toBe(`SIP/2.0/UDP 192.0.2.9:5099;rport=${peer.port};branch=z9hG4bK-inv-c1;received=127.0.0.1`);
    await dlg;
  });

  it('sends BYE along the route set: Request-URI is the remote target, Route holds the set (§12.2.1.1)', async () => {
    const { ep, ua, peer } = await setup();
    const dlgP = acceptAll(ua);
    peer.send(invite(peer.port, { rr: `Record-Route: <sip:127.0.0.1:${peer.port};lr>, <sip:10.1.1.1;lr>, <sip:10.2.2.2;lr>\n` }), ep.port);
    const ok = (await peer.next(isRes(200))) as SipResponse;
    const tag = /tag=([^;>\s]+)/.exec(ok.headers.get('To')!)![1]!;
    peer.send(ack(peer.port, tag), ep.port);
    const dlg = await dlgP;
    await new Promise((r) => dlg.on('confirmed', () => r(undefined)));
    const byeDone = dlg.bye();
    const bye = (await peer.next(isReq('BYE'))) as SipRequest;
    expect(bye.uri).toBe(`sip:caller@127.0.0.1:${peer.port}`);
    expect(bye.headers.getAll('Route')).toEqual([`<sip:127.0.0.1:${peer.port};lr>`, '<sip:10.1.1.1;lr>', '<sip:10.2.2.2;lr>']);
    expect(bye.headers.get('To')).toBe('<sip:caller@127.0.0.1>;tag=ft');
    expect(bye.headers.get('From')).toContain(`tag=${tag}`);
    peer.send(
      `SIP/2.0 200 OK\n${bye.headers.lines('Via').map((v) => `Via: ${v}`).join('\n')}\nFrom: ${bye.headers.get('From')}\nTo: ${bye.headers.get('To')}\nCall-ID: c1\nCSeq: ${bye.headers.get('CSeq')}\nContent-Length: 0\n\n`,
      ep.port,
    );
    await byeDone;
    expect(dlg.state).toBe('terminated');
  });

  it('uses strict routing when the first route has no lr (§12.2.1.1)', async () => {
    const { ep, ua, peer } = await setup();
    const dlgP = acceptAll(ua);
    peer.send(invite(peer.port, { rr: `Record-Route: <sip:127.0.0.1:${peer.port}>, <sip:10.1.1.1;lr>\n` }), ep.port);
    const ok = (await peer.next(isRes(200))) as SipResponse;
    peer.send(ack(peer.port, /tag=([^;>\s]+)/.exec(ok.headers.get('To')!)![1]!), ep.port);
    const dlg = await dlgP;
    await new Promise((r) => dlg.on('confirmed', () => r(undefined)));
    void dlg.bye();
    const bye = (await peer.next(isReq('BYE'))) as SipRequest;
    expect(bye.uri).toBe(`sip:127.0.0.1:${peer.port}`);
    expect(bye.headers.getAll('Route')).toEqual(['<sip:10.1.1.1;lr>', `<sip:caller@127.0.0.1:${peer.port}>`]);
  });

  it('retransmits the 2xx until ACK, then ends the session with BYE after 64*T1 (§13.3.1.4)', async () => {
    const { ep, ua, peer, clock } = await setup();
    const dlgP = acceptAll(ua);
    peer.send(invite(peer.port), ep.port);
    await peer.next(isRes(200));
    const dlg = await dlgP;
    const ended = new Promise<string>((r) => dlg.on('terminated', r));
    clock.advance(500);
    await peer.next(isRes(200));
    clock.advance(1000);
    await peer.next(isRes(200));
    clock.advance(64 * 500);
    expect(await ended).toBe('ack-timeout');
    await peer.next(isReq('BYE'));
  });

  it('rejects an in-dialog request whose CSeq goes backwards with 500 (§12.2.2)', async () => {
    const { ep, ua, peer } = await setup();
    const dlgP = acceptAll(ua);
    peer.send(invite(peer.port), ep.port);
    const ok = (await peer.next(isRes(200))) as SipResponse;
    const tag = /tag=([^;>\s]+)/.exec(ok.headers.get('To')!)![1]!;
    peer.send(ack(peer.port, tag), ep.port);
    await dlgP;
    peer.send(
      `INFO sip:+18990000001@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-info5\nFrom: <sip:caller@127.0.0.1>;tag=ft\nTo: <sip:+18990000001@127.0.0.1>;tag=${tag}\nCall-ID: c1\nCSeq: 5 INFO\nContent-Length: 0\n\n`,
      ep.port,
    );
    const r = (await peer.next(isRes(500, 'INFO'))) as SipResponse;
    expect(r.reason).toBe('CSeq out of order');
  });

  it('answers CANCEL with 200 and the INVITE with 487 (§9.2)', async () => {
    const { ep, ua, peer } = await setup();
    let cancelled = false;
    ua.on('invite', (inv) => (inv.onCancel = () => (cancelled = true)));
    peer.send(invite(peer.port), ep.port);
    await peer.next(isRes(100));
    peer.send(
      `CANCEL sip:+18990000001@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-inv-c1\nFrom: <sip:caller@127.0.0.1>;tag=ft\nTo: <sip:+18990000001@127.0.0.1>\nCall-ID: c1\nCSeq: 10 CANCEL\nContent-Length: 0\n\n`,
      ep.port,
    );
    await peer.next(isRes(200, 'CANCEL'));
    await peer.next(isRes(487, 'INVITE'));
    expect(cancelled).toBe(true);
  });

  it.each([
    ['REGISTER', 405],
    ['FOO', 501],
    ['BYE', 481],
  ])('answers out-of-dialog %s with %i', async (method, status) => {
    const { ep, peer } = await setup();
    peer.send(
      `${method} sip:x@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-${method}\nFrom: <sip:a@b>;tag=1\nTo: <sip:x@127.0.0.1>\nCall-ID: m-${method}\nCSeq: 1 ${method}\nContent-Length: 0\n\n`,
      ep.port,
    );
    const r = await peer.next(isRes(status));
    if (status !== 481) expect(r.headers.get('Allow')).toContain('INVITE');
  });

  it.each([
    ['Require: 100rel\n', 420],
    ['Session-Expires: 30\nSupported: timer\n', 422],
  ])('refuses an INVITE with %j: %i', async (extra, status) => {
    const { ep, peer } = await setup();
    peer.send(invite(peer.port, { extra }), ep.port);
    const r = await peer.next(isRes(status));
    if (status === 422) expect(r.headers.get('Min-SE')).toBe('90');
    if (status === 420) expect(r.headers.get('Unsupported')).toBe('100rel');
  });

  it('answers an unparsable request with 400 and the reason', async () => {
    const { ep, peer } = await setup();
    peer.send(`INVITE sip:x@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-bad\nFrom: <sip:a@b>;tag=1\nTo: <sip:x@127.0.0.1>\nCall-ID: bad\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n`, ep.port);
    const r = (await peer.next(isRes(400))) as SipResponse;
    expect(r.reason).toBe('CSeq method OPTIONS does not match INVITE');
    expect(ep.stats.parseErrors).toBe(1);
  });

  it('negotiates session timers and sends BYE when the refresher goes silent (RFC 4028 §10)', async () => {
    const { ep, ua, peer, clock } = await setup();
    const dlgP = acceptAll(ua);
    peer.send(invite(peer.port, { extra: 'Session-Expires: 120;refresher=uac\nSupported: timer\n' }), ep.port);
    const ok = (await peer.next(isRes(200))) as SipResponse;
    expect(ok.headers.get('Session-Expires')).toBe('120;refresher=uac');
    expect(ok.headers.get('Require')).toBe('timer');
    peer.send(ack(peer.port, /tag=([^;>\s]+)/.exec(ok.headers.get('To')!)![1]!), ep.port);
    const dlg = await dlgP;
    const ended = new Promise<string>((r) => dlg.on('terminated', r));
    await new Promise((r) => dlg.on('confirmed', () => r(undefined)));
    clock.advance(120_000 - 32_000);
    expect(await ended).toBe('session-expired');
    await peer.next(isReq('BYE'));
  });
});
