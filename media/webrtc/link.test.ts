/**
 * The WebRTC engine link against a real far end (a second werift peer on loopback): offer and
 * answer through the signalling channel, ICE + DTLS-SRTP, audio and DTMF both ways, bad answers.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMuLaw, encodeMuLaw } from '../codec/g711.js';
import { hasTone } from '../dsp/goertzel.js';
import { ToneGenerator } from '../dsp/tone.js';
import type { EngineHandlers, EngineLink } from '../engine/link.js';
import type { EngineCloseInfo, EngineControl } from '../engine/types.js';
import type { WebRtcSignal } from '../types.js';
import { WebRtcFarEnd, type FarCodec } from '../../test/helpers/webrtc-far-end.js';
import { SignalChannel } from './channel.js';
import { openWebRtc } from './link.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await wait(10);
  }
}

class Harness {
  readonly out: WebRtcSignal[] = [];
  readonly audio: Buffer[] = [];
  readonly controls: EngineControl[] = [];
  readonly closed: EngineCloseInfo[] = [];
  readonly chan = new SignalChannel('127.0.0.1', (s) => this.out.push(s));
  readonly h: EngineHandlers = {
    audio: (p) => this.audio.push(Buffer.from(p)),
    mark: () => undefined,
    clear: () => undefined,
    control: (ev) => this.controls.push(ev),
    closed: (i) => this.closed.push(i),
  };
  far?: WebRtcFarEnd;
  link?: EngineLink;

  open(codecs: FarCodec[], timeoutMs = 5000): Promise<EngineLink> {
    return openWebRtc({ kind: 'webrtc', name: 'test', codecs, connectTimeoutMs: timeoutMs }, this.h, this.chan, 0, { disconnectGraceMs: 500 });
  }

  async offer(): Promise<string> {
    await until(() => this.out.length > 0, 3000, 'offer');
    const s = this.out[0]!;
    if (s.type !== 'offer') throw new Error(`expected an offer, got ${s.type}`);
    return s.sdp;
  }

  /** Open, answer with a far end that speaks only `farCodec`, wait until both sides are up. */
  async connect(ours: FarCodec[], farCodec: FarCodec): Promise<{ link: EngineLink; far: WebRtcFarEnd }> {
    const p = this.open(ours);
    const { far, sdp } = await WebRtcFarEnd.answer(await this.offer(), farCodec);
    this.far = far;
    this.chan.deliver({ type: 'answer', sdp });
    this.link = await p;
    await far.connected();
    return { link: this.link, far };
  }

  async close(): Promise<void> {
    this.link?.stop();
    await this.far?.close();
  }
}

let hs: Harness[] = [];
const harness = (): Harness => {
  const h = new Harness();
  hs.push(h);
  return h;
};
afterEach(async () => {
  await Promise.all(hs.map((h) => h.close()));
  hs = [];
});

const tone = (freq: number, frames: number): Buffer[] => {
  const g = new ToneGenerator([freq], 8000, 10000);
  return Array.from({ length: frames }, () => Buffer.from(encodeMuLaw(g.next(160))));
};
const heard = (frames: Buffer[], freq: number, minMs: number): boolean => {
  let run = 0;
  for (const f of frames) {
    run = f.length === 160 && hasTone(decodeMuLaw(f), freq, 8000, 0.6) ? run + 20 : 0;
    if (run >= minMs) return true;
  }
  return false;
};
async function pace(frames: Buffer[], each: (f: Buffer, i: number) => void): Promise<void> {
  for (let i = 0; i < frames.length; i++) {
    each(frames[i]!, i);
    await wait(20);
  }
}

describe('WebRTC engine link', () => {
  it('offers every candidate, fingerprint and the codecs in our order with telephone-event', async () => {
    const h = harness();
    const p = h.open(['opus', 'PCMU']);
    const sdp = await h.offer();
    expect(sdp).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
    expect(sdp).toMatch(/a=end-of-candidates/);
    expect(sdp).toMatch(/a=fingerprint:sha-256 /);
    expect(sdp).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111 0 110 101/);
    expect(sdp).toContain('a=rtpmap:111 opus/48000/2');
    expect(sdp).toContain('a=rtpmap:110 telephone-event/48000');
    h.chan.deliver({ type: 'failed', reason: '486 Busy Here' });
    await expect(p).rejects.toThrow('WebRTC far end failed: 486 Busy Here');
  });

  it('passes PCMU through bit-exact both ways, and keeps one SSRC, +1 sequence, +160 timestamp', async () => {
    const h = harness();
    const { link, far } = await h.connect(['PCMU', 'opus'], 'PCMU');
    const frames = Array.from({ length: 10 }, (_, i) => Buffer.alloc(160, 0x10 + i));
    await pace(frames, (f, i) => link.sendAudio(f, i * 20));
    await until(() => far.received.filter((r) => r.pt === 0).length >= 10, 2000, 'PCMU at the far end');
    const got = far.received.filter((r) => r.pt === 0);
    expect(got.map((r) => r.payload)).toEqual(frames);
    expect(new Set(got.map((r) => r.ssrc)).size).toBe(1);
    for (let i = 1; i < got.length; i++) {
      expect((got[i]!.seq - got[i - 1]!.seq) & 0xffff).toBe(1);
      expect((got[i]!.ts - got[i - 1]!.ts) >>> 0).toBe(160);
    }
    const back = Array.from({ length: 10 }, (_, i) => Buffer.alloc(160, 0x40 + i));
    await pace(back, (f, i) => far.send(0, f, 1000 + i * 160));
    await until(() => h.audio.length >= 10, 2000, 'PCMU from the far end');
    expect(h.audio).toEqual(back);
  });

  it('transcodes to and from Opus (48 kHz RTP clock): a 1 kHz tone survives both ways', async () => {
    const h = harness();
    const { link, far } = await h.connect(['opus', 'PCMU'], 'opus');
    await pace(tone(1000, 30), (f, i) => link.sendAudio(f, i * 20));
    await until(() => far.heardTone(111, 1000, 200), 2000, '1 kHz at the far end');
    const got = far.received.filter((r) => r.pt === 111);
    for (let i = 1; i < got.length; i++) expect((got[i]!.ts - got[i - 1]!.ts) >>> 0).toBe(960); // RFC 7587 §4.1
    await pace(tone(1000, 30), (f, i) => far.send(111, far.opusPacket(f), i * 960));
    await until(() => heard(h.audio, 1000, 200), 2000, '1 kHz from the far end');
  });

  it('relays DTMF both ways as RFC 4733 (telephone-event/48000 with Opus, /8000 with PCMU)', async () => {
    for (const codec of ['opus', 'PCMU'] as const) {
      const h = harness();
      const { link, far } = await h.connect([codec], codec);
      const [pt, rate] = codec === 'opus' ? [110, 48000] : [101, 8000];
      link.sendDtmf('5');
      link.sendDtmf('#');
      await until(() => far.digits(pt, rate).length >= 2, 3000, `digits at the far end (${codec})`);
      expect(far.digits(pt, rate)).toEqual(['5', '#']);
      // The End packet goes three times (RFC 4733 §2.5.1.4), all with the event's timestamp.
      const ends = () => far.received.filter((r) => r.pt === pt && (r.payload[1]! & 0x80) !== 0);
      await until(() => ends().length >= 6, 1000, 'End packets');
      expect(new Set(ends().map((r) => r.ts)).size).toBe(2);
      await far.sendDigit(pt, rate, '7', 12345);
      await until(() => h.controls.length >= 1, 2000, `digit from the far end (${codec})`);
      expect(h.controls).toEqual([{ type: 'dtmf', digits: '7' }]);
    }
  });

  const bad: [string, (sdp: string) => string, RegExp][] = [
    ['no fingerprint', (s) => s.replace(/^a=fingerprint:.*\r?\n/gm, ''), /no a=fingerprint/],
    ['no ICE credentials', (s) => s.replace(/^a=ice-(ufrag|pwd):.*\r?\n/gm, ''), /no ICE credentials \(a=ice-ufrag and a=ice-pwd missing/],
    ['no common codec', (s) => s.replace(/^(m=audio \d+ \S+) .*$/m, '$1 9').replace(/^a=(rtpmap|fmtp):\d+ .*\r?\n/gm, '').replace(/^(a=mid:.*)$/m, '$1\r\na=rtpmap:9 G722/8000'), /no codec in common with our offer \(offered PCMU; answered G722\/8000\)/],
    ['plain RTP', (s) => s.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP'), /DTLS-SRTP .* is required/],
  ];
  for (const [what, mutate, msg] of bad) {
    it(`rejects an answer with ${what}, naming the problem, before applying it`, async () => {
      const h = harness();
      const p = h.open(['PCMU']);
      const { far, sdp } = await WebRtcFarEnd.answer(await h.offer(), 'PCMU');
      h.far = far;
      h.chan.deliver({ type: 'answer', sdp: mutate(sdp) });
      await expect(p).rejects.toThrow(msg);
      expect(h.out.map((s) => s.type)).toEqual(['offer']);
      await wait(300);
      expect(far.pc.connectionState).not.toBe('connected');
    });
  }

  it('rejects within the timeout when ICE cannot complete (the answer points at a dead port)', async () => {
    const h = harness();
    const p = openWebRtc({ kind: 'webrtc', name: 'test', codecs: ['PCMU'], connectTimeoutMs: 30_000 }, h.h, h.chan, 1500);
    const { far, sdp } = await WebRtcFarEnd.answer(await h.offer(), 'PCMU');
    await far.close(); // the far end never checks back, so no peer-reflexive rescue
    const dead = dgram.createSocket('udp4');
    await new Promise<void>((r) => dead.bind(0, '127.0.0.1', r));
    const port = dead.address().port;
    dead.close();
    const t0 = Date.now();
    h.chan.deliver({ type: 'answer', sdp: sdp.replace(/(a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 )\d+/, `$1${port}`) });
    await expect(p).rejects.toThrow(/not connected within 1500 ms/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('reports the far end going away mid-call once, as closed 1006', async () => {
    const h = harness();
    const { far } = await h.connect(['PCMU'], 'PCMU');
    h.chan.deliver({ type: 'failed', reason: 'BYE from the far end' });
    await until(() => h.closed.length > 0, 1000, 'closed');
    expect(h.closed).toEqual([{ code: 1006, reason: 'WebRTC far end failed: BYE from the far end', byUs: false }]);
    await far.close();
    await wait(100);
    expect(h.closed).toHaveLength(1);
  });

  it('reports a far end whose connection closes (DTLS close / ICE consent lost)', async () => {
    const h = harness();
    const { far } = await h.connect(['PCMU'], 'PCMU');
    await far.close();
    h.far = undefined;
    await until(() => h.closed.length > 0, 40_000, 'closed after the far end left');
    expect(h.closed[0]).toMatchObject({ code: 1006, byUs: false });
  }, 45_000);
});
