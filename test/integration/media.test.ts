/**
 * The media plane end to end with real peers: the suite's RTP caller on one side, a real
 * WebSocket engine (Twilio Media Streams or L16) on the other, SIP from a hand-driven peer.
 * Tones are checked with Goertzel on what actually arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseSdp } from 'sdp-transform';
import type { RunningGateway } from '../../src/server.js';
import { verifyEngineToken } from '../../media/engine/token.js';
import { startFixture } from '../helpers/gateway.js';
import { RtpCaller } from '../helpers/rtp-caller.js';
import { answer, hangUp, inDialog, invite, isRequest, isResponse, OFFER, placeCall, SipPeer } from '../helpers/sip-peer.js';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine.js';

const SECRET = '0123456789abcdef-test-secret';
let gw: RunningGateway;
let tw: TestEngine;
let pcm: TestEngine;
let peer: SipPeer;
const TW = 25370;

beforeAll(async () => {
  tw = await startTestEngine({ protocol: 'twilio', secret: SECRET });
  pcm = await startTestEngine({ protocol: 'l16' });
  gw = await startFixture('media-gateway.yaml', (c) => {
    c.engines['tw']!.url = tw.url;
    c.engines['pcm']!.url = pcm.url;
  });
  peer = await SipPeer.open();
});
afterAll(async () => {
  peer.close();
  await gw.shutdown(0);
  await Promise.all([tw.close(), pcm.close()]);
});

async function call(port: number, number: string, extra = '') {
  const rtp = await RtpCaller.open();
  const { d, ok } = await placeCall(peer, port, number, OFFER(rtp.port), extra);
  expect(ok.status).toBe(200);
  const media = parseSdp(ok.body.toString()).media[0]!;
  return { d, rtp, gwPort: media.port };
}

describe('Twilio Media Streams engine', () => {
  it('gets connected + start with the call metadata and a verifiable token, and audio both ways', async () => {
    const before = tw.calls.length;
    const { d, rtp, gwPort } = await call(TW, '+18990000001', 'X-transaction-id: 108821676850\nSession-ID: U5EF8FT5DFC07F9@10.101.21.216\n');
    const e = await tw.waitForCall(before);
    await waitFor(() => e.start !== undefined, 2000, 'start');
    expect(e.events.slice(0, 2)).toEqual(['connected', 'start']);
    const start = e.start!['start'] as Record<string, unknown>;
    expect(start['mediaFormat']).toEqual({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 });
    expect(start['customParameters']).toMatchObject({
      agentId: 'tw-1', number: '+18990000001', sipCallId: d.callId, transactionId: '108821676850', sessionId: 'U5EF8FT5DFC07F9@10.101.21.216',
    });
    expect(verifyEngineToken(e.headers.authorization!.replace(/^Bearer /, ''), SECRET).sub).toBe(start['callSid']);

    await rtp.stream(gwPort, 1000, 600);
    await waitFor(() => e.receivedTone(1000, 300), 2000, 'engine hears 1 kHz');
    await e.sendTone(1600, 600);
    await waitFor(() => rtp.heardTone(1600, 300), 3000, 'caller hears 1.6 kHz');
    // Paced output: consecutive packets, 160 samples apart, one SSRC.
    const out = rtp.received.filter((r) => r.pt === 0);
    expect(new Set(out.map((r) => r.ssrc)).size).toBe(1);
    for (let i = 1; i < out.length; i++) expect((out[i]!.ts - out[i - 1]!.ts) >>> 0).toBe(160);
    await hangUp(peer, TW, d);
    await waitFor(() => e.events.includes('stop'), 2000, 'stop');
    rtp.close();
  });

  it('relays DTMF both ways: RFC 4733 and SIP INFO to the engine, engine digits to the caller as RFC 4733', async () => {
    const before = tw.calls.length;
    const { d, rtp, gwPort } = await call(TW, '+18990000002');
    const e = await tw.waitForCall(before);
    await waitFor(() => e.start !== undefined);
    const streaming = rtp.stream(gwPort, 0, 1500);
    await rtp.sendDigit(gwPort, 101, '5');
    d.cseq++;
    peer.send(inDialog(peer, d, 'INFO', 'Content-Type: application/dtmf-relay\n') + 'Signal=7\nDuration=160\n', TW);
    await peer.next(isResponse(200, 'INFO'));
    await waitFor(() => e.dtmf.length >= 2, 2000, 'digits at the engine');
    expect(e.dtmf).toEqual(['5', '7']);
    e.sendControl({ type: 'dtmf', digits: '19' });
    await waitFor(() => rtp.digits(101).length >= 2, 3000, 'digits at the caller');
    expect(rtp.digits(101)).toEqual(['1', '9']);
    await streaming;
    await hangUp(peer, TW, d);
    rtp.close();
  });

  it('echoes a mark only after the audio queued before it was sent, and clear returns pending marks at once', async () => {
    const before = tw.calls.length;
    const { d, rtp, gwPort } = await call(TW, '+18990000003');
    const e = await tw.waitForCall(before);
    await waitFor(() => e.start !== undefined);
    const streaming = rtp.stream(gwPort, 0, 2500);
    const t0 = performance.now();
    await e.sendTone(1600, 400);
    e.sendMark('after-400ms');
    await waitFor(() => e.marks.includes('after-400ms'), 2000, 'mark');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(380);
    expect(rtp.heardTone(1600, 300)).toBe(true);

    await e.sendTone(1600, 3000);
    e.sendMark('never-played');
    await new Promise((r) => setTimeout(r, 200));
    const t1 = performance.now();
    e.sendClear();
    await waitFor(() => e.marks.includes('never-played'), 500, 'mark returned by clear');
    expect(performance.now() - t1).toBeLessThan(300);
    rtp.clear();
    await new Promise((r) => setTimeout(r, 300));
    expect(rtp.heardTone(1600, 60)).toBe(false);
    await streaming;
    await hangUp(peer, TW, d);
    rtp.close();
  });

  it('sends no audio to a caller who holds the call, and resumes after', async () => {
    const before = tw.calls.length;
    const { d, rtp, gwPort } = await call(TW, '+18990000004');
    const e = await tw.waitForCall(before);
    await waitFor(() => e.start !== undefined);
    const streaming = rtp.stream(gwPort, 0, 2000);
    d.cseq++;
    peer.send(invite(peer, d, OFFER(rtp.port).replace('a=sendrecv', 'a=sendonly')), TW);
    await peer.next(isResponse(200, 'INVITE'));
    peer.send(inDialog(peer, d, 'ACK'), TW);
    await new Promise((r) => setTimeout(r, 100));
    rtp.clear();
    await e.sendTone(1600, 300);
    await new Promise((r) => setTimeout(r, 400));
    expect(rtp.received.filter((r) => r.pt === 0)).toHaveLength(0);
    d.cseq++;
    peer.send(invite(peer, d, OFFER(rtp.port)), TW);
    await peer.next(isResponse(200, 'INVITE'));
    peer.send(inDialog(peer, d, 'ACK'), TW);
    await waitFor(() => rtp.received.length > 5, 1000, 'RTP after resume');
    // The engine was told about the caller's hold and resume.
    await waitFor(() => e.events.includes('unhold'), 1000, 'unhold event');
    expect(e.events.filter((x) => x === 'hold' || x === 'unhold')).toEqual(['hold', 'unhold']);
    await streaming;
    await hangUp(peer, TW, d);
    rtp.close();
  });

  it('reconnects once when the engine socket drops, with reconnect in the new start', async () => {
    const before = tw.calls.length;
    const { d, rtp, gwPort } = await call(TW, '+18990000005');
    const first = await tw.waitForCall(before);
    await waitFor(() => first.start !== undefined);
    const streaming = rtp.stream(gwPort, 1000, 1500);
    first.close(1011, 'engine restarting');
    const second = await tw.waitForCall(before + 1, 3000);
    await waitFor(() => second.start !== undefined);
    const s1 = first.start!['start'] as Record<string, Record<string, string>>;
    const s2 = second.start!['start'] as Record<string, Record<string, string>>;
    expect(s2['customParameters']!['reconnect']).toBe('true');
    expect(s2['callSid']).toBe(s1['callSid']);
    await waitFor(() => second.receivedTone(1000, 200), 2000, 'audio after reconnect');
    await streaming;
    await hangUp(peer, TW, d);
    rtp.close();
  });

  it('ends the call (BYE with a Reason) when the engine is lost twice, policy hangup', async () => {
    const before = tw.calls.length;
    const { d, rtp, gwPort } = await call(TW, '+18990000006');
    const first = await tw.waitForCall(before);
    await waitFor(() => first.start !== undefined);
    const streaming = rtp.stream(gwPort, 0, 1500);
    first.close(1011);
    const second = await tw.waitForCall(before + 1, 3000);
    await waitFor(() => second.start !== undefined);
    second.close(1011);
    const bye = await peer.next((m) => isRequest('BYE')(m) && m.headers.get('Call-ID') === d.callId, 3000);
    expect(bye.headers.get('Reason')).toBe('Q.850;cause=41;text="AI engine unavailable"');
    answer(peer, bye, TW);
    await streaming;
    rtp.close();
  });

  it('ends the call when the engine hangs up, keeping its term code', async () => {
    const before = tw.calls.length;
    const { d, rtp } = await call(TW, '+18990000007');
    const e = await tw.waitForCall(before);
    await waitFor(() => e.start !== undefined);
    const c = gw.calls.calls.get(d.callId)!;
    e.sendControl({ type: 'hangup', termCode: 'RESOLVED' });
    const bye = await peer.next((m) => isRequest('BYE')(m) && m.headers.get('Call-ID') === d.callId, 3000);
    expect(bye.headers.get('Reason')).toContain('Virtual agent ended the call');
    expect(c.termCode).toBe('RESOLVED');
    answer(peer, bye, TW);
    rtp.close();
  });

  it('tells an engine that floods audio faster than real time (backpressure) and keeps the call', async () => {
    const before = tw.calls.length;
    const { d, rtp, gwPort } = await call(TW, '+18990000009');
    const e = await tw.waitForCall(before);
    await waitFor(() => e.start !== undefined);
    const streaming = rtp.stream(gwPort, 0, 1000);
    // 12 s of audio at once against a 10 s bound.
    await e.sendTone(1600, 12_000, { paced: false });
    await waitFor(() => e.errors.some((x) => x.code === 'backpressure'), 3000, 'backpressure error');
    expect(e.errors.find((x) => x.code === 'backpressure')!.message).toMatch(/more than 10 s of audio queued; \d+ frame\(s\) dropped/);
    await streaming;
    await hangUp(peer, TW, d);
    rtp.close();
  });

  it('ends a call whose RTP stops (RTP timeout)', async () => {
    const { d, rtp } = await call(TW, '+18990000008');
    const bye = await peer.next((m) => isRequest('BYE')(m) && m.headers.get('Call-ID') === d.callId, 5000);
    expect(bye.headers.get('Reason')).toBe('Q.850;cause=41;text="RTP timeout"');
    answer(peer, bye, TW);
    rtp.close();
  });
});

describe('L16 engine', () => {
  it('carries 16 kHz PCM both ways', async () => {
    const before = pcm.calls.length;
    const { d, rtp, gwPort } = await call(25372, '+18990000101');
    const e = await pcm.waitForCall(before);
    await waitFor(() => e.start !== undefined);
    expect(e.sampleRate).toBe(16000);
    await rtp.stream(gwPort, 1000, 600);
    await waitFor(() => e.receivedTone(1000, 300), 2000, 'engine hears 1 kHz at 16 kHz');
    const streaming = rtp.stream(gwPort, 0, 1000);
    await e.sendTone(1600, 600);
    await waitFor(() => rtp.heardTone(1600, 300), 3000, 'caller hears 1.6 kHz');
    await streaming;
    await hangUp(peer, 25372, d);
    rtp.close();
  });
});

describe('engine failure policy when the engine cannot be reached', () => {
  it('transfer: REFER to the configured target, then the call ends', async () => {
    const { d, rtp } = await call(25374, '+18990000201');
    const refer = await peer.next((m) => isRequest('REFER')(m) && m.headers.get('Call-ID') === d.callId, 5000);
    expect(refer.headers.get('Refer-To')).toBe('<sip:humans@127.0.0.1>');
    answer(peer, refer, 25374, 202, 'Accepted');
    const bye = await peer.next((m) => isRequest('BYE')(m) && m.headers.get('Call-ID') === d.callId, 3000);
    answer(peer, bye, 25374);
    rtp.close();
  });

  it('play: the caller hears the announcement, then BYE', async () => {
    const { d, rtp, gwPort } = await call(25376, '+18990000301');
    const streaming = rtp.stream(gwPort, 0, 1500);
    const bye = await peer.next((m) => isRequest('BYE')(m) && m.headers.get('Call-ID') === d.callId, 5000);
    expect(rtp.heardTone(440, 300)).toBe(true);
    answer(peer, bye, 25376);
    await streaming;
    rtp.close();
  });
});

describe('builtin engines and robustness', () => {
  it('builtin:echo returns the caller tone, paced', async () => {
    const { d, rtp, gwPort } = await call(25378, '+18990000401');
    await rtp.stream(gwPort, 1000, 600);
    await waitFor(() => rtp.heardTone(1000, 300), 2000, 'echoed tone');
    await hangUp(peer, 25378, d);
    rtp.close();
  });

  it('builtin:demo plays its prompt and answers a digit with its DTMF tone', async () => {
    const { d, rtp, gwPort } = await call(25380, '+18990000501');
    const streaming = rtp.stream(gwPort, 0, 1500);
    await waitFor(() => rtp.received.filter((r) => r.payload.some((b) => b !== 0xff)).length > 10, 2000, 'prompt audio');
    await hangUp(peer, 25380, d);
    await streaming;
    rtp.close();
  });

  it('drops garbage RTP (wrong version, truncated, unknown payload type, third address) and counts it', async () => {
    const { d, rtp, gwPort } = await call(25378, '+18990000402');
    const streaming = rtp.stream(gwPort, 1000, 600);
    const stranger = await RtpCaller.open();
    rtp.sock.send(Buffer.from([0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]), gwPort, '127.0.0.1');
    rtp.sock.send(Buffer.from([0x80, 0, 0]), gwPort, '127.0.0.1');
    rtp.sendPacket(gwPort, 99, Buffer.alloc(160, 0));
    await new Promise((r) => setTimeout(r, 100));
    stranger.sendPacket(gwPort, 0, Buffer.alloc(160, 0x11));
    await streaming;
    const c = gw.calls.calls.get(d.callId)!;
    await hangUp(peer, 25378, d);
    await waitFor(() => c.media.stats.packetsDropped >= 4, 2000, 'closing stats');
    expect(c.media.stats.packetsDropped).toBe(4);
    stranger.close();
    rtp.close();
  });

  it('a media worker crash ends its calls cleanly and the replacement takes new calls', async () => {
    const { d, rtp } = await call(25378, '+18990000403');
    const c = gw.calls.calls.get(d.callId)!;
    await gw.media.crashWorker(0);
    await gw.media.crashWorker(1);
    const bye = await peer.next((m) => isRequest('BYE')(m) && m.headers.get('Call-ID') === d.callId, 5000);
    expect(bye.headers.get('Reason')).toBe('Q.850;cause=41;text="Media failure"');
    answer(peer, bye, 25378);
    expect(c.endReason).toBe('media-failure');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^vagw_media_worker_restarts_total 2$/m);
    expect(metrics).toMatch(/^vagw_calls_ended_total\{reason="media-failure"\} 1$/m);
    rtp.close();
    const again = await call(25378, '+18990000404');
    await again.rtp.stream(again.gwPort, 1000, 400);
    await waitFor(() => again.rtp.heardTone(1000, 200), 2000, 'echo after worker restart');
    await hangUp(peer, 25378, again.d);
    again.rtp.close();
  });
});
