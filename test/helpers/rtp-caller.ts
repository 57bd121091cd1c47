/**
 * The suite's RTP caller: a real UDP endpoint that streams G.711 (a tone, or silence) paced at
 * 20 ms, sends RFC 4733 digits, and records what comes back for Goertzel / DTMF analysis.
 */
import dgram from 'node:dgram';
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw } from '../../media/codec/g711.js';
import { concatSamples, hasSustainedTone } from '../../media/dsp/goertzel.js';
import { ToneGenerator } from '../../media/dsp/tone.js';
import { TelephoneEventReceiver, TelephoneEventSender } from '../../media/dtmf/rfc4733.js';
import { buildRtp } from '../../media/rtp-packet.js';
import { parseRtp } from '../../media/rtp.js';

export interface Received {
  at: number;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  marker: boolean;
  payload: Buffer;
}

export class RtpCaller {
  readonly sock = dgram.createSocket('udp4');
  readonly received: Received[] = [];
  port = 0;
  private seq = 1000;
  private ts = 5000;
  private readonly ssrc = 0x1234abcd;
  private timer?: NodeJS.Timeout;
  sent = 0;

  static async open(): Promise<RtpCaller> {
    const c = new RtpCaller();
    await new Promise<void>((r) => c.sock.bind(0, '127.0.0.1', r));
    c.port = c.sock.address().port;
    c.sock.on('message', (m) => {
      const h = parseRtp(m);
      if (h) c.received.push({ at: performance.now(), pt: h.payloadType, seq: h.sequence, ts: h.timestamp, ssrc: h.ssrc, marker: h.marker, payload: Buffer.from(m.subarray(h.payloadOffset)) });
    });
    return c;
  }

  /** Stream `ms` of a tone (0 Hz = silence) to `port`, paced drift-free at 20 ms. */
  stream(port: number, freqHz: number, ms: number, opts: { pt?: number; alaw?: boolean } = {}): Promise<void> {
    const gen = freqHz > 0 ? new ToneGenerator([freqHz], 8000, 10000) : null;
    const frames = Math.round(ms / 20);
    const start = performance.now();
    let n = 0;
    return new Promise((resolve) => {
      const step = (): void => {
        const pcm = gen ? gen.next(160) : new Int16Array(160);
        const payload = opts.alaw ? encodeALaw(pcm) : encodeMuLaw(pcm);
        this.sendPacket(port, opts.pt ?? (opts.alaw ? 8 : 0), payload, n === 0);
        this.ts = (this.ts + 160) >>> 0;
        if (++n >= frames) return resolve();
        this.timer = setTimeout(step, Math.max(0, start + n * 20 - performance.now()));
      };
      step();
    });
  }

  /** One RFC 4733 digit (payload type `pt`), packets paced as the sender schedules them. */
  async sendDigit(port: number, pt: number, digit: string, durationMs = 100): Promise<void> {
    const packets = new TelephoneEventSender(pt).packets(digit, durationMs);
    const start = performance.now();
    // Every packet of the event carries the event's start timestamp (RFC 4733 §2.5.1.2), even
    // while audio keeps flowing alongside.
    const eventTs = this.ts;
    for (const p of packets) {
      const wait = start + p.sendOffsetMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.sendPacket(port, pt, p.payload, p.marker, eventTs);
    }
  }

  sendPacket(port: number, pt: number, payload: Uint8Array, marker = false, timestamp = this.ts): void {
    this.sock.send(buildRtp({ payloadType: pt, marker, sequence: this.seq, timestamp, ssrc: this.ssrc }, payload), port, '127.0.0.1');
    this.seq = (this.seq + 1) & 0xffff;
    this.sent++;
  }

  /** Decoded samples of the audio packets received (payload type `pt`), in arrival order. */
  samples(pt = 0): Int16Array {
    return concatSamples(this.received.filter((r) => r.pt === pt).map((r) => (pt === 8 ? decodeALaw(r.payload) : decodeMuLaw(r.payload))));
  }

  /** True when at least `minMs` of consecutive 20 ms blocks carry `freqHz`. */
  heardTone(freqHz: number, minMs: number, pt = 0): boolean {
    return hasSustainedTone(this.samples(pt), freqHz, minMs, 0.6);
  }

  /** RFC 4733 digits received with payload type `pt`. */
  digits(pt: number): string[] {
    const rx = new TelephoneEventReceiver();
    const out: string[] = [];
    for (const r of this.received.filter((x) => x.pt === pt)) {
      const ev = rx.push(r.payload, r.ts, r.marker);
      if (ev) out.push(ev.digit);
    }
    return out;
  }

  clear(): void {
    this.received.length = 0;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sock.close();
  }
}
