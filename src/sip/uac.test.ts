/**
 * UAC INVITE and the UAC-role dialog over a real loopback UDP socket (the peer is a raw socket
 * playing the UAS), with a fake clock for the RFC 3261 timers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCSeq, tagOf } from './grammar.js';
import { newRequest, SipHeaders, type SipRequest, type SipResponse } from './message.js';
import { makeResponse } from './response.js';
import { serialize } from './serializer.js';
import { InviteError, invite, type InviteProgress, type OutgoingInvite } from './uac.js';
import { isReq, isRes, silentLog, startUa } from '../../test/helpers/sip-ua-harness.js';

const log = silentLog;
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';
const ANSWER = SDP.replace('6000', '7000');
const PEER_TAG = 'uas1';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function setup() {
  const { ep, ua, peer, clock } = await startUa(cleanup);
  const call = (extra: Record<string, string> = {}): OutgoingInvite =>
    invite(ua, {
      destination: { transport: 'udp', address: '127.0.0.1', port: peer.port },
      uri: `sip:agent1@127.0.0.1:${peer.port}`,
      from: '<sip:gateway@127.0.0.1>',
      to: '<sip:agent1@127.0.0.1>',
      headers: extra,
      sdp: SDP,
      logger: log,
    });
  return { ep, ua, peer, clock, call };
}

/** The peer's answer to `req`; 2xx and 18x get the peer's tag and Contact. */
function answer(req: SipRequest, status: number, peerPort: number, extra: Record<string, string | string[]> = {}, body?: string): SipResponse {
  const h: Record<string, string | string[]> = { Contact: `<sip:agent1@127.0.0.1:${peerPort}>`, ...extra };
  if (body) h['Content-Type'] = 'application/sdp';
  return makeResponse(req, status, undefined, status > 100 ? PEER_TAG : undefined, h, body ? Buffer.from(body) : undefined);
}

/** A request from the peer inside the dialog (From = peer tag, To = our tag). */
function inDialog(method: string, inv: SipRequest, seq: number, peerPort: number, body?: string): SipRequest {
  const h = new SipHeaders()
    .add('Via', `SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-${method}-${seq}`)
    .add('From', `<sip:agent1@127.0.0.1>;tag=${PEER_TAG}`)
    .add('To', inv.headers.get('From')!)
    .add('Call-ID', inv.headers.get('Call-ID')!)
    .add('CSeq', `${seq} ${method}`)
    .add('Contact', `<sip:agent1@127.0.0.1:${peerPort}>`)
    .add('Max-Forwards', '70');
  if (body) h.add('Content-Type', 'application/sdp');
  return newRequest(method, `sip:gateway@127.0.0.1`, h, body ? Buffer.from(body) : Buffer.alloc(0));
}

/** INVITE, 180, 200 (with Record-Route), and the ACK: an established UAC dialog. */
async function established(s: Awaited<ReturnType<typeof setup>>, extra: Record<string, string | string[]> = {}) {
  const out = s.call();
  const inv = (await s.peer.next(isReq('INVITE'))) as SipRequest;
  s.peer.send(answer(inv, 200, s.peer.port, extra, ANSWER), s.ep.port);
  const a = await out.answered;
  const ack = (await s.peer.next(isReq('ACK'))) as SipRequest;
  return { out, inv, ack, ...a };
}

describe('UAC INVITE (RFC 3261 §13.2)', () => {
  it('sends the INVITE, reports provisionals, and on 2xx builds the dialog and ACKs along the reversed route set', async () => {
    const { ep, peer, call } = await setup();
    const out = call();
    const progress: InviteProgress[] = [];
    out.on('progress', (p) => progress.push(p));
    const inv = (await peer.next(isReq('INVITE'))) as SipRequest;
    expect(tagOf(inv.headers.get('From'))).toBe(out.localTag);
    expect(inv.headers.get('To')).toBe('<sip:agent1@127.0.0.1>');
    expect(inv.headers.get('Contact')).toBe(`<sip:gateway@127.0.0.1:${ep.port}>`);
    expect(inv.headers.get('Content-Type')).toBe('application/sdp');
    expect(inv.body.toString()).toBe(SDP);
    peer.send(answer(inv, 100, peer.port), ep.port);
    peer.send(answer(inv, 180, peer.port), ep.port);
    peer.send(answer(inv, 183, peer.port, {}, ANSWER), ep.port);
    // Record-Route as the UAS copies it: the proxy nearest the UAS first, ours (the peer) last.
    const rr = [`<sip:10.9.9.9;lr>`, `<sip:127.0.0.1:${peer.port};lr>`];
    peer.send(answer(inv, 200, peer.port, { 'Record-Route': rr.join(', ') }, ANSWER), ep.port);
    const { dialog, sdp } = await out.answered;
    expect(progress.map((p) => [p.status, p.sdp])).toEqual([[100, undefined], [180, undefined], [183, ANSWER]]);
    expect(sdp).toBe(ANSWER);
    expect(out.state).toBe('answered');
    expect(dialog.role).toBe('uac');
    expect(dialog.remoteTag).toBe(PEER_TAG);
    expect(dialog.localTag).toBe(out.localTag);
    const ack = (await peer.next(isReq('ACK'))) as SipRequest;
    // §12.1.2 route set reversed; §12.2.1.1 Request-URI = remote target (the 2xx Contact).
    expect(ack.uri).toBe(`sip:agent1@127.0.0.1:${peer.port}`);
    expect(ack.headers.getAll('Route')).toEqual([...rr].reverse());
    expect(parseCSeq(ack.headers.get('CSeq')!)).toEqual({ seq: parseCSeq(inv.headers.get('CSeq')!).seq, method: 'ACK' });
    expect(tagOf(ack.headers.get('To'))).toBe(PEER_TAG);
    // The ACK for a 2xx is a transaction of its own (§17.1.1.3): not the INVITE's branch.
    expect(ack.headers.get('Via')).not.toBe(inv.headers.get('Via'));
  });

  it('re-sends the same ACK for each 2xx retransmission, also after the transaction ended (RFC 6026)', async () => {
    const s = await setup();
    const { inv, ack } = await established(s);
    const ok = answer(inv, 200, s.peer.port, {}, ANSWER);
    s.peer.send(ok, s.ep.port);
    const again = (await s.peer.next(isReq('ACK'))) as SipRequest;
    expect(serialize(again).toString()).toBe(serialize(ack).toString());
    s.clock.advance(64 * 500); // Timer M: the client transaction is gone
    expect(s.ep.activeTransactions).toBe(0);
    s.peer.send(ok, s.ep.port);
    const stray = (await s.peer.next(isReq('ACK'))) as SipRequest;
    expect(stray.headers.get('Via')).toBe(ack.headers.get('Via'));
  });

  it('sends BYE in the dialog: CSeq after the INVITE, tags swapped from the peer view', async () => {
    const s = await setup();
    const { dialog, inv } = await established(s);
    const ended: string[] = [];
    dialog.on('terminated', (r) => ended.push(r));
    const done = dialog.bye('local-bye', { Reason: 'Q.850;cause=16' });
    const bye = (await s.peer.next(isReq('BYE'))) as SipRequest;
    expect(parseCSeq(bye.headers.get('CSeq')!).seq).toBe(parseCSeq(inv.headers.get('CSeq')!).seq + 1);
    expect(tagOf(bye.headers.get('From'))).toBe(dialog.localTag);
    expect(tagOf(bye.headers.get('To'))).toBe(PEER_TAG);
    expect(bye.headers.get('Reason')).toBe('Q.850;cause=16');
    expect(bye.uri).toBe(`sip:agent1@127.0.0.1:${s.peer.port}`);
    s.peer.send(makeResponse(bye, 200), s.ep.port);
    await done;
    expect(ended).toEqual(['local-bye']);
    expect(s.ua.dialogs.size).toBe(0);
  });

  it('routes the peer BYE, re-INVITE and INFO to the UAC dialog (To tag = our From tag)', async () => {
    const s = await setup();
    const { dialog, inv } = await established(s);
    const seen: string[] = [];
    dialog.handler = {
      offer: (sdp) => {
        seen.push(`offer:${sdp === SDP}`);
        return { sdp: ANSWER };
      },
      info: () => {
        seen.push('info');
        return { status: 200 };
      },
    };
    const ended = new Promise<string>((r) => dialog.on('terminated', r));
    const reinvite = inDialog('INVITE', inv, 1, s.peer.port, SDP);
    s.peer.send(reinvite, s.ep.port);
    const ok = (await s.peer.next(isRes(200, 'INVITE'))) as SipResponse;
    expect(ok.body.toString()).toBe(ANSWER);
    expect(tagOf(ok.headers.get('To'))).toBe(dialog.localTag);
    // Our 2xx to the re-INVITE is retransmitted until its ACK (§13.3.1.4).
    s.clock.advance(500);
    await s.peer.next(isRes(200, 'INVITE'));
    const ack = inDialog('ACK', inv, 1, s.peer.port);
    s.peer.send(ack, s.ep.port);
    await new Promise((r) => setTimeout(r, 20));
    expect(dialog.state).toBe('confirmed');
    s.peer.send(inDialog('INFO', inv, 2, s.peer.port), s.ep.port);
    await s.peer.next(isRes(200, 'INFO'));
    s.peer.send(inDialog('BYE', inv, 3, s.peer.port), s.ep.port);
    await s.peer.next(isRes(200, 'BYE'));
    expect(await ended).toBe('remote-bye');
    expect(seen).toEqual(['offer:true', 'info']);
  });

  it('sends a re-INVITE and ACKs its 2xx; INFO with its own Content-Type', async () => {
    const s = await setup();
    const { dialog } = await established(s);
    const res = dialog.request('INVITE', {}, SDP);
    const re = (await s.peer.next(isReq('INVITE'))) as SipRequest;
    expect(re.headers.get('Contact')).toMatch(/^<sip:gateway@127\.0\.0\.1:\d+>$/);
    s.peer.send(answer(re, 200, s.peer.port, {}, ANSWER), s.ep.port);
    expect(((await res) as SipResponse).status).toBe(200);
    const ack = (await s.peer.next(isReq('ACK'))) as SipRequest;
    expect(ack.headers.get('CSeq')).toBe(`${parseCSeq(re.headers.get('CSeq')!).seq} ACK`);
    const info = dialog.request('INFO', { 'Content-Type': 'application/dtmf-relay' }, 'Signal=5\r\nDuration=160\r\n');
    const req = (await s.peer.next(isReq('INFO'))) as SipRequest;
    expect(req.headers.getAll('Content-Type')).toEqual(['application/dtmf-relay']);
    s.peer.send(makeResponse(req, 200), s.ep.port);
    expect(((await info) as SipResponse).status).toBe(200);
  });

  it('refreshes the session when the 2xx makes us the refresher (RFC 4028 §7.2)', async () => {
    const s = await setup();
    await established(s, { 'Session-Expires': '120;refresher=uac', Require: 'timer' });
    s.clock.advance(60_000);
    const re = (await s.peer.next(isReq('INVITE'))) as SipRequest;
    expect(re.headers.get('Session-Expires')).toBe('120;refresher=uac');
  });

  it('rejects on a non-2xx final, which the transaction ACKs on the INVITE branch', async () => {
    const { ep, peer, call } = await setup();
    const out = call();
    const inv = (await peer.next(isReq('INVITE'))) as SipRequest;
    peer.send(answer(inv, 486, peer.port), ep.port);
    const err = (await out.answered.catch((e: unknown) => e)) as InviteError;
    expect(err).toBeInstanceOf(InviteError);
    expect([err.kind, err.status, err.reason]).toEqual(['rejected', 486, 'Busy Here']);
    const ack = (await peer.next(isReq('ACK'))) as SipRequest;
    expect(ack.headers.get('Via')).toBe(inv.headers.get('Via'));
  });

  it('rejects with a timeout when nothing answers (Timer B)', async () => {
    const { peer, call, clock } = await setup();
    const out = call();
    await peer.next(isReq('INVITE'));
    clock.advance(64 * 500);
    const err = (await out.answered.catch((e: unknown) => e)) as InviteError;
    expect([err.kind, err.status]).toEqual(['timeout', 408]);
  });
});

describe('CANCEL (RFC 3261 §9.1)', () => {
  it('waits for a provisional, then cancels on the INVITE branch with a Reason; 487 rejects', async () => {
    const { ep, peer, call, clock } = await setup();
    const out = call();
    const inv = (await peer.next(isReq('INVITE'))) as SipRequest;
    out.cancel({ protocol: 'SIP', cause: 200, text: 'Call completed elsewhere' });
    await peer.none(isReq('CANCEL'));
    peer.send(answer(inv, 180, peer.port), ep.port);
    const cancel = (await peer.next(isReq('CANCEL'))) as SipRequest;
    expect(cancel.uri).toBe(inv.uri);
    expect(cancel.headers.getAll('Via')).toEqual([inv.headers.getAll('Via')[0]]);
    expect(cancel.headers.get('CSeq')).toBe(`${parseCSeq(inv.headers.get('CSeq')!).seq} CANCEL`);
    expect(cancel.headers.get('To')).toBe(inv.headers.get('To'));
    expect(cancel.headers.get('Reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    // Retransmitted (Timer E) until the INVITE's final response.
    clock.advance(500);
    await peer.next(isReq('CANCEL'));
    peer.send(makeResponse(cancel, 200), ep.port);
    peer.send(answer(inv, 487, peer.port), ep.port);
    const err = (await out.answered.catch((e: unknown) => e)) as InviteError;
    expect([err.kind, err.status]).toEqual(['cancelled', 487]);
    await peer.next(isReq('ACK'));
    clock.advance(4000);
    await peer.none(isReq('CANCEL'));
  });

  it('ACKs and BYEs a 2xx that races the CANCEL', async () => {
    const { ep, ua, peer, call } = await setup();
    const out = call();
    const inv = (await peer.next(isReq('INVITE'))) as SipRequest;
    peer.send(answer(inv, 180, peer.port), ep.port);
    await new Promise((r) => out.on('progress', () => r(undefined)));
    out.cancel();
    await peer.next(isReq('CANCEL'));
    peer.send(answer(inv, 200, peer.port, {}, ANSWER), ep.port);
    const err = (await out.answered.catch((e: unknown) => e)) as InviteError;
    expect([err.kind, err.status]).toEqual(['cancelled', 200]);
    await peer.next(isReq('ACK'));
    const bye = (await peer.next(isReq('BYE'))) as SipRequest;
    expect(tagOf(bye.headers.get('To'))).toBe(PEER_TAG);
    peer.send(makeResponse(bye, 200), ep.port);
    await new Promise((r) => setTimeout(r, 20));
    expect(ua.dialogs.size).toBe(0);
  });

  it('gives up 64*T1 after the CANCEL when no final response comes', async () => {
    const { ep, peer, call, clock } = await setup();
    const out = call();
    const inv = (await peer.next(isReq('INVITE'))) as SipRequest;
    peer.send(answer(inv, 180, peer.port), ep.port);
    await new Promise((r) => out.on('progress', () => r(undefined)));
    out.cancel();
    clock.advance(64 * 500);
    const err = (await out.answered.catch((e: unknown) => e)) as InviteError;
    expect(err.kind).toBe('cancelled');
    expect(ep.activeTransactions).toBe(0);
  });

  it('a second 2xx from another fork is ACKed and ended with BYE', async () => {
    const s = await setup();
    const { inv, dialog } = await established(s);
    const other = answer(inv, 200, s.peer.port, {}, ANSWER);
    other.headers.set('To', `${inv.headers.get('To')};tag=fork2`);
    s.peer.send(other, s.ep.port);
    const ack = (await s.peer.next(isReq('ACK'))) as SipRequest;
    expect(tagOf(ack.headers.get('To'))).toBe('fork2');
    const bye = (await s.peer.next(isReq('BYE'))) as SipRequest;
    expect(tagOf(bye.headers.get('To'))).toBe('fork2');
    expect(dialog.state).toBe('confirmed');
  });
});
