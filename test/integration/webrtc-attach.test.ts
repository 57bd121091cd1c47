/**
 * A server-side WebRTC engine attached to /webrtc, end to end with real peers (no mocks): the test
 * is the engine (a ws client speaking docs/webrtc-attach.md plus a werift RTCPeerConnection), the
 * LiveVox sandbox routes customer calls (its placer is the carrier: plain RTP PCMU with a 440 Hz
 * tone), the gateway bridges the carrier's RTP to the engine over ICE + DTLS-SRTP.
 *
 * Checked: the offer's meta carries the LiveVox ids; 440 Hz reaches the engine, the engine's 1 kHz
 * (Opus) reaches the customer; the engine's DTMF control reaches the customer as RFC 4733; the
 * engine's hang-up with a term code ends the carrier leg, the simulator records exactly that code
 * and the agent is Ready again. Refusals: no engine claimed (480), wrong or missing token
 * (403/401). Failures: the engine's socket closing mid-call, and an answer without a fingerprint.
 *
 * SIP port 25880 and RTP 49000-49499: webrtc-browser.test.ts runs the same fixture on 25870 /
 * 47500-47999, webrtc-media.test.ts uses 48000-48999, and vitest runs files in parallel.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeMuLaw } from '../../media/codec/g711.js';
import { hasSustainedTone } from '../../media/dsp/goertzel.js';
import { ToneGenerator } from '../../media/dsp/tone.js';
import type { RunningGateway } from '../../src/server.js';
import type { CallFailedError, PlacedCall } from '../../src/vendors/livevox/simulator/placer.js';
import { livevoxSandbox, startFixture } from '../helpers/gateway.js';
import { OFFER, placeCall, SipPeer } from '../helpers/sip-peer.js';
import { waitFor } from '../helpers/test-engine.js';
import { WebRtcFarEnd } from '../helpers/webrtc-far-end.js';

const SIP_PORT = 25880;
const TOKEN = 'webrtc-it-attach-token';
const OPUS_PT = 111;

let gw: RunningGateway;
/** Engines and peers a test opened: closed after it even when it fails (a claim outlives a failed test otherwise). */
const cleanup: (() => Promise<void>)[] = [];

const sim = () => livevoxSandbox(gw).simulator;
const placer = () => livevoxSandbox(gw).placer!;
const vendorState = (user: string) => sim().state.snapshot().agents.find((a) => a.user === user)?.state;
const termCodes = (transactionId: string) => sim().state.snapshot().calls.find((c) => c.transactionId === transactionId)?.termCodes.map((t) => t.termCodeName) ?? [];

/** va-03 is back: READY at the simulator and ready in the gateway's pool. */
const va03Ready = () => vendorState('va-03') === 'READY' && gw.agents.find('livevox', '18990000003')?.state === 'ready';

const heard = (samples: Int16Array, freqHz: number, minMs: number): boolean => hasSustainedTone(samples, freqHz, minMs);

type Msg = Record<string, unknown> & { type: string };

/** The engine's signalling: a /webrtc socket with a queue of what the gateway sent. */
class Engine {
  private readonly queue: Msg[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.queue.push(JSON.parse(d.toString()) as Msg);
      this.waiters.splice(0).forEach((w) => w());
    });
    ws.on('close', () => (this.closed = true));
  }

  static async connect(token = TOKEN): Promise<Engine> {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/webrtc`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    const e = new Engine(ws);
    cleanup.push(() => e.close());
    return e;
  }

  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }

  /** The next message of `type` (others before it stay queued). */
  async next(type: string, timeoutMs = 10_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((m) => m.type === type);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no '${type}' from the gateway (queued: ${this.queue.map((m) => m.type).join(', ') || 'nothing'})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  has(type: string): boolean {
    return this.queue.some((m) => m.type === type);
  }

  /** Claims agents by id or number; the gateway answers with their ids. */
  async claim(...agents: string[]): Promise<string[]> {
    this.send({ type: 'claim', agents });
    return (await this.next('claimed'))['agents'] as string[];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const gone = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await gone;
  }
}

/** Upgrade status for /webrtc with these headers (101 = accepted). */
function upgradeStatus(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/webrtc`, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

/** The engine speaks `freq` Hz in Opus, paced at 20 ms like a real-time engine. */
async function engineTone(far: WebRtcFarEnd, freq: number, ms: number): Promise<void> {
  const g = new ToneGenerator([freq], 8000, 10000);
  const t0 = performance.now();
  for (let i = 0; i < ms / 20; i++) {
    far.send(OPUS_PT, far.opusPacket(Buffer.from(encodeMuLaw(g.next(160)))), i * 960);
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + (i + 1) * 20 - performance.now())));
  }
}

let txSeq = 0;
/** The sandbox routes a customer to va-03; resolves with its ids once the placer has the call. */
async function routeCall(): Promise<{ transactionId: string; sessionId: string; placed: PlacedCall }> {
  await waitFor(va03Ready, 10_000, 'va-03 Ready before the call');
  const n = ++txSeq;
  const ids = { transactionId: `72000000000${n}`, sessionId: `ATT${n}@10.0.0.1` };
  sim().startCall('va-03', { ...ids, phoneNumber: '3125550123' });
  await waitFor(() => placer().find(ids.transactionId) !== undefined, 5000, 'placer has the call');
  return { ...ids, placed: placer().find(ids.transactionId)! };
}

/** The engine takes the offer and answers it with a werift peer (Opus), optionally mangled. */
async function answerOffer(engine: Engine, mangle: (sdp: string) => string = (s) => s): Promise<{ offer: Msg; far: WebRtcFarEnd }> {
  const offer = await engine.next('offer');
  const { far, sdp } = await WebRtcFarEnd.answer(String(offer['sdp']), 'opus');
  cleanup.push(() => far.close());
  engine.send({ type: 'answer', callId: offer['callId'], sdp: mangle(sdp) });
  return { offer, far };
}

beforeAll(async () => {
  gw = await startFixture('webrtc-gateway.yaml', (c) => {
    c.dataDir = mkdtempSync(path.join(tmpdir(), 'vagw-webrtc-attach-'));
    c.profiles[0]!.listen.port = SIP_PORT;
    c.media.rtpPortMin = 49000;
    c.media.rtpPortMax = 49499;
  });
  await waitFor(() => ['va-01', 'va-02', 'va-03', 'va-04'].every((u) => vendorState(u) === 'READY'), 10_000, 'agents Ready at LiveVox');
}, 30_000);
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(async () => {
  await gw?.shutdown(0);
});

describe('a server-side engine attached to /webrtc (werift, real ICE + DTLS-SRTP)', () => {
  it('refuses a wrong token with 403 and a missing one with 401', async () => {
    expect(await upgradeStatus({ authorization: 'Bearer wrong-attach-token-000000' })).toBe(403);
    expect(await upgradeStatus({ authorization: `Bearer ${TOKEN}x` })).toBe(403);
    expect(await upgradeStatus({})).toBe(401);
    expect(await upgradeStatus({ authorization: `Bearer ${TOKEN}` })).toBe(101);
  });

  it('a call to va-03 with no engine claimed is refused with 480 naming the reason', async () => {
    const peer = await SipPeer.open();
    const { ok } = await placeCall(peer, SIP_PORT, '+18990000003', OFFER(7004));
    peer.close();
    expect(ok.status).toBe(480);
    expect(ok.reason).toBe('Virtual agent va-03 has no WebRTC endpoint attached');
    expect(va03Ready()).toBe(true);
  });

  it('offer with the LiveVox ids, tones both ways, DTMF to the customer, hang-up with a term code, Ready again', async () => {
    const engine = await Engine.connect();
    expect(await engine.claim('+18990000003')).toEqual(['va-03']);
    const { transactionId, sessionId, placed } = await routeCall();
    const { offer, far } = await answerOffer(engine);
    expect(offer['agent']).toBe('va-03');
    const meta = offer['meta'] as { agentId: string; number: string; vendor: Record<string, string>; custom: Record<string, string> };
    expect(meta.agentId).toBe('va-03');
    expect(meta.vendor).toMatchObject({ transactionId, sessionId });
    expect(meta.custom).toMatchObject({ transactionId, sessionId });
    await far.connected(10_000);
    await placed.answered;

    // The customer's 440 Hz reaches the engine (RTP -> worker -> Opus over SRTP).
    await waitFor(() => far.heardTone(OPUS_PT, 440, 300), 10_000, "customer's tone at the engine");
    // The engine's 1 kHz reaches the customer (SRTP Opus -> mu-law -> RTP).
    await engineTone(far, 1000, 1200);
    await waitFor(() => heard(placed.receivedSamples(), 1000, 300), 5000, "engine's tone at the customer");

    // DTMF from the engine's control reaches the customer as RFC 4733.
    engine.send({ type: 'control', callId: offer['callId'], control: { type: 'dtmf', digits: '7' } });
    await waitFor(() => placed.receivedDigits() === '7', 5000, 'digit at the customer');

    engine.send({ type: 'control', callId: offer['callId'], control: { type: 'hangup', termCode: 'AI Completed' } });
    expect((await placed.ended).by).toBe('gateway');
    await waitFor(() => va03Ready() && termCodes(transactionId).length > 0, 10_000, 'term code and Ready');
    expect(termCodes(transactionId)).toEqual(['AI Completed']);
    expect(engine.has('error')).toBe(false);
  }, 60_000);

  it("the engine's socket closing mid-call ends the call: BYE to the customer, one term code, Ready", async () => {
    const engine = await Engine.connect();
    expect(await engine.claim('va-03')).toEqual(['va-03']);
    const { transactionId, placed } = await routeCall();
    const { far } = await answerOffer(engine);
    await far.connected(10_000);
    await placed.answered;
    await waitFor(() => far.heardTone(OPUS_PT, 440, 200), 10_000, "customer's tone at the engine");

    await engine.close();
    const end = await placed.ended;
    expect(end.by).toBe('gateway');
    await waitFor(() => va03Ready() && termCodes(transactionId).length > 0, 10_000, 'term code and Ready');
    // An engine that vanished after answering counts as engine-hangup (docs/webrtc-attach.md).
    expect(termCodes(transactionId)).toEqual(['AI Completed']);
    expect(gw.calls.webrtc.attach.claimed('va-03')).toBe(false);
  }, 60_000);

  it('an answer without a=fingerprint goes to the engine failure policy: the call ends with the failure term code', async () => {
    const engine = await Engine.connect();
    expect(await engine.claim('va-03')).toEqual(['va-03']);
    const { transactionId, placed } = await routeCall();
    const { offer, far } = await answerOffer(engine, (sdp) => sdp.replace(/^a=fingerprint:.*\r?\n/gm, ''));
    const end = await placed.ended;
    expect(end.by).toBe('gateway');
    await waitFor(() => va03Ready() && termCodes(transactionId).length > 0, 10_000, 'term code and Ready');
    expect(termCodes(transactionId)).toEqual(['AI Failure']);
    // Nothing of the bad answer was applied: no DTLS with the engine, ever.
    expect(far.pc.connectionState).not.toBe('connected');
    // The engine hears that the call is over, and why.
    expect(await engine.next('call-ended')).toMatchObject({ callId: offer['callId'], reason: 'engine-failed', detail: expect.stringMatching(/fingerprint/) });
  }, 60_000);

  // Last: LiveVox keeps the agent in WRAPUP after the failed leg, and Ready needs a term code first.
  let refused: { transactionId: string; placed: PlacedCall } | undefined;
  it('the sandbox call to an unclaimed va-03 fails with 480 at the carrier', async () => {
    refused = await routeCall();
    const err = await refused.placed.answered.then(() => undefined, (e: CallFailedError) => e);
    expect(err?.status).toBe(480);
    expect(err?.reason).toBe('Virtual agent va-03 has no WebRTC endpoint attached');
    expect((await refused.placed.ended).by).toBe('failed');
  });

  // LiveVox keeps an agent whose call was refused in WRAPUP until it has a term code, and refuses
  // its Ready before that: the call manager wraps refused calls up like ended ones.
  it('a refused sandbox call still gets a term code and the agent is Ready again', async () => {
    expect(refused).toBeDefined();
    await waitFor(() => va03Ready() && termCodes(refused!.transactionId).length > 0, 3000, 'term code and Ready after the refusal');
    expect(termCodes(refused!.transactionId)).toEqual(['AI Failure']);
  });
});
