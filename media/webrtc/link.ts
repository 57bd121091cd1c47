/**
 * A WebRTC far end as an engine link: the session's mu-law frames go out as SRTP to a browser,
 * SIP.js client or server-side WebRTC engine, and what it sends comes back as mu-law frames.
 *
 *   open: offer (after ICE gathering: non-trickle, so one SIP INVITE carries it all) -> signal
 *         out; answer in -> checked (sdp-check.ts) -> applied; trickled candidates in; resolves on
 *         connectionState 'connected' (ICE + DTLS-SRTP done, RFC 8445 / RFC 5764).
 *   media: PCMU passes through untouched; PCMA is table-transcoded; Opus goes through opus.ts.
 *   end:   'failed', 'closed', or 'disconnected' for longer than a grace period -> handlers.closed
 *          (code 1006): the supervisor's failure policy is the call's one end path.
 *
 * Marks, events and errors have no WebRTC counterpart: a far end on WebRTC cannot queue audio
 * ahead of real time (RTP is played as it arrives), so "tell me when what I queued before the
 * mark was played" has nobody to ask; the mark is the session's own business (its outbound
 * queue answers marks for engines that queue audio, and there are none here).
 */
import { RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import { aLawToMuLaw, muLawToALaw } from '../codec/g711.js';
import { TelephoneEventReceiver } from '../dtmf/rfc4733.js';
import type { EngineHandlers, EngineLink } from '../engine/link.js';
import type { EngineTarget, IceSettings, WebRtcSignal } from '../types.js';
import { DtmfOut } from './dtmf.js';
import { OpusMuLaw } from './opus.js';
import { createPeer, gathered, OFFER_PT } from './peer.js';
import { checkAnswer, type Negotiated } from './sdp-check.js';
import { Reframer, RtpClock } from './stream.js';

/** How the link talks to the call layer (through the worker), and where its candidates live. */
export interface WebRtcSignalling {
  /** The media host: the only address our ICE host candidates use. */
  host: string;
  /** Port range, advertised address and STUN/TURN servers of our candidates. */
  ice?: IceSettings;
  send(s: WebRtcSignal): void;
  /** Signals from the far end; returns the unsubscribe. */
  listen(cb: (s: WebRtcSignal) => void): () => void;
}

export interface WebRtcOptions {
  /** How long 'disconnected' may last mid-call before the far end counts as gone (default 5 s). */
  disconnectGraceMs?: number;
}

type WebRtcTarget = Extract<EngineTarget, { kind: 'webrtc' }>;

export async function openWebRtc(target: WebRtcTarget, h: EngineHandlers, sig: WebRtcSignalling, timeoutMs: number, opts: WebRtcOptions = {}): Promise<EngineLink> {
  const link = new WebRtcLink(target, h, sig, opts.disconnectGraceMs ?? 5000);
  await link.open(timeoutMs > 0 ? timeoutMs : target.connectTimeoutMs);
  return link;
}

type State = 'opening' | 'up' | 'closed';

let gathering: Promise<unknown> = Promise.resolve();
/** Run `fn` after every gathering started before it (one at a time per worker). */
function serially<T>(fn: () => Promise<T>): Promise<T> {
  const run = gathering.then(fn, fn);
  gathering = run.catch(() => undefined);
  return run;
}

/**
 * Behind 1:1 NAT the far end must be told the public address: it replaces the media host in our
 * host candidates (RFC 8839 §5.1) and the c= lines; the NAT maps the checks back to our socket.
 */
export function advertise(sdp: string, host: string, advertised: string | undefined): string {
  if (!advertised || advertised === host) return sdp;
  return sdp
    .split('\r\n')
    .map((line) => {
      if (line.startsWith('a=candidate:')) {
        const f = line.split(' ');
        if (f[4] === host) f[4] = advertised;
        return f.join(' ');
      }
      if (line === `c=IN IP4 ${host}`) return `c=IN IP4 ${advertised}`;
      return line;
    })
    .join('\r\n');
}

class WebRtcLink implements EngineLink {
  readonly format = 'mulaw8k' as const;
  // A WebRTC peer sends as it captures: the session trims queued frames that are only delay.
  readonly realtime = true;
  private readonly pc: RTCPeerConnection;
  private readonly tr: RTCRtpTransceiver;
  private state: State = 'opening';
  private neg?: Negotiated;
  private opus?: OpusMuLaw;
  private clock?: RtpClock;
  private dtmfOut?: DtmfOut;
  private readonly dtmfIn = new Map<number, TelephoneEventReceiver>();
  private readonly reframer: Reframer;
  private inBand: Buffer = Buffer.alloc(0);
  private seq = Math.floor(Math.random() * 0x10000);
  private readonly unlisten: () => void;
  private answered = false;
  private remoteSet?: Promise<void>;
  private graceTimer?: NodeJS.Timeout;
  private fail: (e: Error) => void = () => undefined;

  constructor(
    private readonly target: WebRtcTarget,
    private readonly h: EngineHandlers,
    private readonly sig: WebRtcSignalling,
    private readonly graceMs: number,
  ) {
    ({ pc: this.pc, transceiver: this.tr } = createPeer(sig.host, target.codecs, sig.ice));
    this.reframer = new Reframer((f) => this.h.audio(f));
    this.unlisten = sig.listen((s) => this.onSignal(s));
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.onRtp(rtp));
    });
    this.pc.connectionStateChange.subscribe((s) => this.onState(s));
  }

  async open(timeoutMs: number): Promise<void> {
    const connected = new Promise<void>((resolve, reject) => {
      this.fail = reject;
      this.pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') resolve();
      });
    });
    const timer = setTimeout(() => this.fail(new Error(`WebRTC far end not connected within ${timeoutMs} ms (no answer, or ICE/DTLS did not complete)`)), timeoutMs);
    try {
      // One gathering at a time in this worker: werift finds a free port in the range by binding
      // and releasing it, so two concurrent gatherings could pick the same one.
      await serially(async () => {
        await this.pc.setLocalDescription(await this.pc.createOffer());
        await gathered(this.pc);
      });
      const ice = this.sig.ice;
      if (!/^a=candidate:/m.test(this.pc.localDescription!.sdp)) {
        throw new Error(ice ? `no ICE candidate: no UDP port free in ${ice.portMin}..${ice.portMax} (media.webrtc.icePortMin/icePortMax)` : 'no ICE candidate could be gathered');
      }
      if (this.state === 'opening') this.sig.send({ type: 'offer', sdp: advertise(this.pc.localDescription!.sdp, this.sig.host, this.sig.ice?.advertisedAddress) });
      await connected;
      if ((this.state as State) !== 'opening') throw new Error('WebRTC link closed while connecting');
      this.state = 'up';
    } catch (e) {
      this.shutdown();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  // ------------------------------------------------------------ signalling

  private onSignal(s: WebRtcSignal): void {
    if (this.state === 'closed') return;
    if (s.type === 'failed') return this.lost(`WebRTC far end failed: ${s.reason}`);
    if (s.type === 'answer') return this.onAnswer(s.sdp);
    if (s.type === 'candidate') {
      // Candidates may race the answer's application: apply them after it (RFC 8838 §4).
      const add = (): Promise<void> => this.pc.addIceCandidate({ candidate: s.candidate, sdpMid: s.sdpMid ?? '0', sdpMLineIndex: 0 });
      void (this.remoteSet ? this.remoteSet.then(add) : add()).catch(() => undefined);
    }
    // A second offer or answer would be renegotiation, which this link does not do.
  }

  private onAnswer(sdp: string): void {
    if (this.answered || this.state !== 'opening') return;
    this.answered = true;
    let neg: Negotiated;
    try {
      neg = checkAnswer(sdp, this.target.codecs);
    } catch (e) {
      return this.fail(e as Error); // nothing applied, nothing sent
    }
    this.neg = neg;
    this.clock = new RtpClock(neg.codec.clockRate);
    if (neg.codec.name === 'opus' || this.target.codecs.includes('opus')) this.opus = new OpusMuLaw();
    this.dtmfOut = new DtmfOut(neg.dtmf, {
      sendEvent: (payload, marker, ts) => this.sendRtp(neg.dtmf!.payloadType, payload, marker, ts),
      timestampNow: () => this.clock!.now(),
      playInBand: (tone) => (this.inBand = Buffer.concat([this.inBand, tone])),
    });
    this.remoteSet = this.pc.setRemoteDescription({ type: 'answer', sdp }).then(
      () => {
        // RFC 3264 §6.1: we send with the payload types of the answer.
        this.tr.sender.codec = new RTCRtpCodecParameters({ mimeType: `audio/${neg.codec.name}`, clockRate: neg.codec.clockRate, payloadType: neg.codec.payloadType });
      },
      (e: Error) => this.fail(new Error(`WebRTC answer could not be applied: ${e.message}`)),
    );
  }

  private onState(s: string): void {
    if (this.state !== 'up') {
      if (s === 'failed') this.fail(new Error('WebRTC ICE/DTLS failed while connecting'));
      return;
    }
    if (s === 'connected') {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
    } else if (s === 'failed' || s === 'closed') {
      this.lost(`WebRTC connection ${s} (ICE/DTLS failed)`);
    } else if (s === 'disconnected' && !this.graceTimer) {
      // ICE consent (RFC 7675) may come back after a short outage; give it a few seconds.
      this.graceTimer = setTimeout(() => this.lost('WebRTC connection disconnected (ICE/DTLS failed)'), this.graceMs);
    }
  }

  /** The far end is gone: once, through the session's single end path. */
  private lost(reason: string): void {
    if (this.state === 'opening') return this.fail(new Error(reason));
    if (this.state !== 'up') return;
    this.shutdown();
    this.h.closed({ code: 1006, reason, byUs: false });
  }

  // ------------------------------------------------------------ media

  private onRtp(rtp: RtpPacket): void {
    if (this.state !== 'up') return;
    const pt = rtp.header.payloadType;
    // We receive with the payload types of our offer (RFC 3264 §5.1).
    if (pt === OFFER_PT.te8k || pt === OFFER_PT.te48k) {
      let rx = this.dtmfIn.get(pt);
      if (!rx) this.dtmfIn.set(pt, (rx = new TelephoneEventReceiver(pt === OFFER_PT.te8k ? 8000 : 48000)));
      const ev = rx.push(rtp.payload, rtp.header.timestamp, rtp.header.marker);
      if (ev) this.h.control({ type: 'dtmf', digits: ev.digit });
      return;
    }
    if (pt === OFFER_PT.PCMU) this.reframer.push(Buffer.from(rtp.payload));
    else if (pt === OFFER_PT.PCMA) this.reframer.push(aLawToMuLaw(rtp.payload) as Buffer);
    else if (pt === OFFER_PT.opus && this.opus) {
      try {
        this.reframer.push(this.opus.decode(rtp.payload));
      } catch {
        // A corrupt Opus packet is dropped; the session's outbound queue plays silence for it.
      }
    }
  }

  sendAudio(frame: Buffer, timestampMs: number): void {
    const neg = this.neg;
    if (this.state !== 'up' || !neg || frame.length !== 160) return;
    let f = frame;
    if (this.inBand.length) {
      f = this.inBand.subarray(0, 160);
      this.inBand = this.inBand.subarray(f.length);
      if (f.length < 160) f = Buffer.concat([f, frame.subarray(f.length)]);
    }
    const payload = neg.codec.name === 'PCMU' ? f : neg.codec.name === 'PCMA' ? (muLawToALaw(f) as Buffer) : this.opus!.encode(f);
    const { ts, marker } = this.clock!.next(timestampMs);
    this.sendRtp(neg.codec.payloadType, payload, marker, ts);
  }

  /**
   * One RTP packet with our own sequence and timestamp (werift stamps its SSRC, the one our SDP
   * announced, and SRTP-protects it). werift sends with the sender's codec payload type, so a
   * telephone-event packet swaps it for the call; sendRtp reads it before its first await.
   */
  private sendRtp(pt: number, payload: Buffer, marker: boolean, ts: number): void {
    const sender = this.tr.sender;
    const audio = sender.codec;
    if (!audio) return;
    const header = new RtpHeader({ payloadType: pt, sequenceNumber: this.seq, timestamp: ts, marker });
    this.seq = (this.seq + 1) & 0xffff;
    if (pt !== audio.payloadType) sender.codec = new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: audio.clockRate, payloadType: pt });
    void sender.sendRtp(new RtpPacket(header, payload)).catch(() => undefined);
    sender.codec = audio;
  }

  sendDtmf(digit: string): void {
    if (this.state === 'up') this.dtmfOut?.push(digit);
  }

  sendMark(): void {}
  sendEvent(): void {}
  sendError(): void {}

  stop(): void {
    this.shutdown();
  }

  private shutdown(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.graceTimer);
    this.unlisten();
    this.dtmfOut?.stop();
    this.opus?.delete();
    void this.pc.close().catch(() => undefined);
  }
}
