/**
 * The far end of a WebRTC-bridged call in tests: a second werift RTCPeerConnection playing the
 * browser. It answers our offer (non-trickle), records the RTP it receives, and sends audio and
 * RFC 4733 digits like a browser would.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { decodeMuLaw } from '../../media/codec/g711.js';
import { concatSamples, hasSustainedTone } from '../../media/dsp/goertzel.js';
import { TelephoneEventReceiver, TelephoneEventSender } from '../../media/dtmf/rfc4733.js';
import { OpusMuLaw } from '../../media/webrtc/opus.js';
import type { Received } from './rtp-caller.js';

/** An RTP packet the far end received (as the suite's RTP caller records them, without the time). */
export type FarReceived = Omit<Received, 'at'>;

const PCMU = (): RTCRtpCodecParameters => new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 });
const PCMA = (): RTCRtpCodecParameters => new RTCRtpCodecParameters({ mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 });
const OPUS = (): RTCRtpCodecParameters => new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 });
const TE = (rate: number, pt: number): RTCRtpCodecParameters => new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: rate, channels: 1, payloadType: pt, parameters: '0-15' });

export type FarCodec = 'PCMU' | 'PCMA' | 'opus';

export class WebRtcFarEnd {
  readonly received: FarReceived[] = [];
  private seq = 100;
  private readonly opus = new OpusMuLaw();
  private tr!: RTCRtpTransceiver;

  private constructor(readonly pc: RTCPeerConnection) {
    pc.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((r) => {
      this.received.push({ pt: r.header.payloadType, seq: r.header.sequenceNumber, ts: r.header.timestamp, ssrc: r.header.ssrc, marker: r.header.marker, payload: Buffer.from(r.payload) });
    }));
  }

  /** Answer `offer` supporting only `codec` (+ its telephone-event); resolves with the complete answer. */
  static async answer(offer: string, codec: FarCodec, host = '127.0.0.1'): Promise<{ far: WebRtcFarEnd; sdp: string }> {
    const audio = codec === 'opus' ? [OPUS(), TE(48000, 110)] : codec === 'PCMA' ? [PCMA(), TE(8000, 101)] : [PCMU(), TE(8000, 101)];
    const pc = new RTCPeerConnection({ codecs: { audio, video: [] }, iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: [host], iceInterfaceAddresses: { udp4: host } });
    const far = new WebRtcFarEnd(pc);
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    far.tr = pc.getTransceivers()[0]!;
    far.tr.setDirection('sendrecv');
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== 'complete') await new Promise<void>((r) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()));
    return { far, sdp: pc.localDescription!.sdp };
  }

  async connected(ms = 5000): Promise<void> {
    const t0 = Date.now();
    while (this.pc.connectionState !== 'connected') {
      if (Date.now() - t0 > ms) throw new Error(`far end not connected (${this.pc.connectionState})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** One RTP packet with payload type `pt` (werift stamps the sender codec's PT, so swap it). */
  send(pt: number, payload: Buffer, ts: number, marker = false): void {
    const s = this.tr.sender;
    const keep = s.codec!;
    s.codec = new RTCRtpCodecParameters({ mimeType: 'audio/x', clockRate: keep.clockRate, payloadType: pt });
    void s.sendRtp(new RtpPacket(new RtpHeader({ payloadType: pt, sequenceNumber: this.seq, timestamp: ts, marker }), payload));
    this.seq = (this.seq + 1) & 0xffff;
    s.codec = keep;
  }

  /** Encode a 160-byte mu-law frame as Opus the way a browser's 20 ms packet would carry it. */
  opusPacket(mulaw: Buffer): Buffer {
    return this.opus.encode(mulaw);
  }

  /** An RFC 4733 digit, one packet per 20 ms. */
  async sendDigit(pt: number, clockRate: number, digit: string, ts: number): Promise<void> {
    for (const p of new TelephoneEventSender(pt, clockRate).packets(digit, 100)) {
      this.send(pt, p.payload, ts, p.marker);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Decoded 8 kHz samples of what arrived with payload type `pt` (PCMU or Opus). */
  samples(pt: number): Int16Array {
    return concatSamples(this.received.filter((r) => r.pt === pt).map((r) => decodeMuLaw(pt === 111 ? this.opus.decode(r.payload) : r.payload)));
  }

  heardTone(pt: number, freq: number, minMs: number): boolean {
    return hasSustainedTone(this.samples(pt), freq, minMs, 0.6);
  }

  digits(pt: number, clockRate: number): string[] {
    const rx = new TelephoneEventReceiver(clockRate);
    return this.received.filter((r) => r.pt === pt).flatMap((r) => rx.push(r.payload, r.ts, r.marker)?.digit ?? []);
  }

  async close(): Promise<void> {
    this.opus.delete();
    await this.pc.close();
  }
}
