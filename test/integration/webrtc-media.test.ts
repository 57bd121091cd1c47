/**
 * A WebRTC-bridged session through the real worker plane, no SIP: the suite's RTP caller on the
 * carrier side (plain RTP, PCMU), a werift peer as the WebRTC far end (SRTP, Opus or PCMU), the
 * offer and answer through MediaSession.onSignal / signal as the call layer would carry them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerMediaPlane } from '../../media/worker-plane.js';
import type { MediaEndReason, MediaSession, OpenRequest } from '../../media/types.js';
import { ToneGenerator } from '../../media/dsp/tone.js';
import { encodeMuLaw } from '../../media/codec/g711.js';
import { RtpCaller } from '../helpers/rtp-caller.js';
import { WebRtcFarEnd, type FarCodec } from '../helpers/webrtc-far-end.js';
import { waitFor } from '../helpers/test-engine.js';

let plane: WorkerMediaPlane;
beforeAll(() => {
  plane = new WorkerMediaPlane({
    host: '127.0.0.1', portMin: 48000, portMax: 48999, workers: 1,
    settings: { host: '127.0.0.1', rtpTimeoutMs: 10_000, jitterMinMs: 40, jitterMaxMs: 200, engineBufferFrames: 500 },
  });
});
afterAll(() => plane.close());

let n = 0;
function request(codecs: FarCodec[]): OpenRequest {
  const id = `webrtc-it-${++n}`;
  return {
    callId: id,
    engine: { kind: 'webrtc', name: 'sip', codecs, connectTimeoutMs: 5000 },
    meta: { callSid: `CA${id}`, streamSid: `MZ${id}`, accountSid: 'vagw-it', sipCallId: id, agentId: 'a1', number: '8990001', caller: '+1555', dnis: '800', profile: 'p', vendor: {}, custom: {} },
    failure: { policy: 'hangup', reconnectWindowMs: 2000 },
  };
}

async function session(codecs: FarCodec[]): Promise<{ s: MediaSession; rtp: RtpCaller; offer: Promise<string>; ended: { reason?: MediaEndReason; detail?: string } }> {
  const s = await plane.open(request(codecs));
  const rtp = await RtpCaller.open();
  const ended: { reason?: MediaEndReason; detail?: string } = {};
  s.onEnd = (reason, detail) => Object.assign(ended, { reason, detail });
  s.update({ codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, dtmf: { payloadType: 101, clockRate: 8000 }, remote: { address: '127.0.0.1', port: rtp.port }, direction: 'sendrecv', ptime: 20 });
  const offer = new Promise<string>((resolve) => {
    s.onSignal = (sig) => {
      if (sig.type === 'offer') resolve(sig.sdp);
    };
  });
  s.start();
  return { s, rtp, offer, ended };
}

/**
 * The far end speaks, paced at 20 ms like a browser, for up to `ms` or until `heard()`: on a
 * loaded machine the first packets may meet a media worker that is behind, so the tone lasts
 * until the caller has heard enough of it, not a fixed time.
 */
async function farTone(far: WebRtcFarEnd, codec: FarCodec, freq: number, ms: number, heard: () => boolean = () => false): Promise<void> {
  const g = new ToneGenerator([freq], 8000, 10000);
  for (let i = 0; i < ms / 20 && !heard(); i++) {
    const f = Buffer.from(encodeMuLaw(g.next(160)));
    if (codec === 'opus') far.send(111, far.opusPacket(f), i * 960);
    else far.send(0, f, i * 160);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('WebRTC engine through the worker plane', () => {
  for (const codec of ['opus', 'PCMU'] as const) {
    it(`bridges the carrier's RTP to an SRTP far end in ${codec}: tones and DTMF both ways`, async () => {
      const { s, rtp, offer } = await session([codec === 'opus' ? 'opus' : 'PCMU', 'PCMU']);
      const { far, sdp } = await WebRtcFarEnd.answer(await offer, codec);
      s.signal({ type: 'answer', sdp });
      await far.connected();
      const pt = codec === 'opus' ? 111 : 0;
      const [tePt, teRate] = codec === 'opus' ? [110, 48000] : [101, 8000];

      const streaming = rtp.stream(s.localPort, 1000, 1500);
      await waitFor(() => far.heardTone(pt, 1000, 300), 3000, 'far end hears the caller');
      await farTone(far, codec, 1600, 4000, () => rtp.heardTone(1600, 300));
      await waitFor(() => rtp.heardTone(1600, 300), 1000, 'caller hears the far end');

      await rtp.sendDigit(s.localPort, 101, '5');
      await waitFor(() => far.digits(tePt, teRate).includes('5'), 2000, 'digit at the far end');
      await far.sendDigit(tePt, teRate, '9', 777);
      await waitFor(() => rtp.digits(101).includes('9'), 3000, 'digit at the caller');
      await streaming;

      s.close();
      await far.close();
      rtp.close();
    });
  }

  it('ends the session through onEnd (engine-failed) when the answer has no fingerprint', async () => {
    const { s, rtp, offer, ended } = await session(['PCMU']);
    const { far, sdp } = await WebRtcFarEnd.answer(await offer, 'PCMU');
    s.signal({ type: 'answer', sdp: sdp.replace(/^a=fingerprint:.*\r?\n/gm, '') });
    await waitFor(() => ended.reason !== undefined, 2000, 'onEnd');
    expect(ended.reason).toBe('engine-failed');
    expect(ended.detail).toMatch(/no a=fingerprint/);
    s.close();
    await far.close();
    rtp.close();
  });

  it('ends the session when the far end refuses (signal failed), without waiting for the timeout', async () => {
    const { s, rtp, offer, ended } = await session(['opus']);
    await offer;
    s.signal({ type: 'failed', reason: '486 Busy Here' });
    await waitFor(() => ended.reason !== undefined, 1000, 'onEnd');
    expect(ended).toEqual({ reason: 'engine-failed', detail: expect.stringContaining('486 Busy Here') });
    s.close();
    rtp.close();
  });
});
