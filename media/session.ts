/**
 * One call's media, inside a media worker: the RTP/RTCP sockets, the engine link and the stages
 * between them (RFC 3550 RTP, RFC 4733 DTMF, jitter buffer, G.711, 8/16 kHz resampling, pacing).
 *
 *   caller RTP -> validate/latch -> DTMF? -> jitter buffer -> (PLC) -> engine format -> engine
 *   engine audio -> engine format -> mu-law frames -> OutboundQueue -> pacer tick -> RTP -> caller
 *
 * The session reports to its owner only through `emit`: the media side ending the call
 * (RTP timeout, engine failure), engine call control, and caller DTMF.
 */
import { randomInt } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { aLawToMuLaw, decodeMuLaw, encodeMuLaw, muLawToALaw, MULAW_SILENCE } from './codec/g711.js';
import { Downsampler16to8, Upsampler8to16 } from './codec/resample.js';
import { engineToMuLaw, pcm8ToEngine } from './engine/formats.js';
import type { EngineFormat } from './engine/link.js';
import { TelephoneEventReceiver, TelephoneEventSender } from './dtmf/rfc4733.js';
import { dtmfToneMuLaw } from './engine/builtin.js';
import { EngineSupervisor, type EngineOpener } from './engine/supervisor.js';
import type { EngineControl } from './engine/types.js';
import { readAnnouncement } from './announcement.js';
import { JitterBuffer, type JitterOut } from './jitter.js';
import { OutboundQueue } from './outbound.js';
import { RealtimeTrim } from './realtime-trim.js';
import type { Pacer, Paced } from './pacer.js';
import { concealFrame } from './plc.js';
import type { PortPair } from './ports.js';
import { buildReceiverReport, buildSenderReport, parseRtcp, ReceptionStats } from './rtcp.js';
import { buildRtp } from './rtp-packet.js';
import { isRtcp, parseRtp } from './rtp.js';
import type { LiveMediaStats, MediaEndReason, MediaParams, MediaSessionStats, MediaSettings, OpenRequest } from './types.js';
import { guard } from '../src/util/faults.js';

export type SessionEvent =
  | { type: 'ended'; reason: MediaEndReason; detail?: string }
  | { type: 'control'; control: EngineControl }
  | { type: 'dtmf'; digit: string }
  | { type: 'notice'; text: string };

export type { EngineOpener };

export interface SessionDeps {
  pacer: Pacer;
  settings: MediaSettings;
  openEngine: EngineOpener;
  emit(ev: SessionEvent): void;
  release(pair: PortPair): void;
  now?: () => number;
}

const FRAME = 160; // 20 ms of 8 kHz G.711
const RTCP_EVERY_TICKS = 250; // 5 s (RFC 3550 §6.2 minimum interval)

export class CallMedia implements Paced {
  readonly stats: MediaSessionStats = {
    packetsIn: 0, packetsOut: 0, packetsDropped: 0, lost: 0, late: 0, dtmfIn: 0, dtmfOut: 0,
    engineFramesIn: 0, engineFramesOut: 0, engineReconnects: 0, backpressureDrops: 0, realtimeTrimmed: 0, engineClears: 0, engineRejected: 0,
  };
  private params?: MediaParams;
  private latched?: { address: string; port: number };
  private readonly jitter: JitterBuffer;
  private readonly dtmfIn = new TelephoneEventReceiver();
  private readonly out: OutboundQueue;
  private readonly trim = new RealtimeTrim();
  private readonly up = new Upsampler8to16();
  private readonly down = new Downsampler16to8();
  private prevPcm: Int16Array | null = null;
  private lostRun = 0;
  private readonly engine: EngineSupervisor;
  private draining = false;
  private engineHold = false;
  /** The platform muted its agent: the engine's audio is consumed but the caller hears silence. */
  private engineMuted = false;
  /** The engine paused its audio (silence, queue kept: chan_websocket PAUSE_MEDIA). */
  private enginePaused = false;
  private lastRtpAt = 0;
  private startedAt = 0;
  private readonly ssrc = randomInt(1, 0xffffffff);
  private seq = randomInt(0, 0xffff);
  private ts = randomInt(0, 0xffffffff);
  private sentPackets = 0;
  private sentOctets = 0;
  private readonly rx = new ReceptionStats();
  private ticks = 0;
  private remoteSsrc?: number;
  rtcpIn = 0;
  private dtmfOut: { digits: string[]; train?: { packets: Buffer[]; markers: boolean[]; i: number; ts: number } } = { digits: [] };
  private unpace?: () => void;
  private closed = false;
  private lastBackpressureNotice = -Infinity;
  /** Worst tick lateness in the current and the previous 1 s window (live stats). */
  private lateNow = 0;
  private latePrev = 0;
  private lateWindowAt = 0;
  private readonly now: () => number;

  constructor(
    private readonly pair: PortPair,
    private readonly req: OpenRequest,
    private readonly deps: SessionDeps,
  ) {
    this.now = deps.now ?? (() => performance.now());
    this.jitter = new JitterBuffer({ minMs: deps.settings.jitterMinMs, maxMs: deps.settings.jitterMaxMs, frameMs: 20, clockRate: 8000 });
    this.out = new OutboundQueue(FRAME, deps.settings.engineBufferFrames);
    this.engine = new EngineSupervisor(req, deps.openEngine, {
      audio: (p, format) => this.fromEngine(p, format),
      mark: (name) => this.out.pushMark(name),
      clear: () => {
        this.stats.engineClears++;
        for (const m of this.out.clear()) this.engine.up?.sendMark(m, true);
      },
      pause: (on) => void (this.enginePaused = on),
      rejected: (reason, log) => {
        this.stats.engineRejected++;
        if (log) this.deps.emit({ type: 'notice', text: `engine message rejected: ${reason}` });
      },
      control: (ev) => this.control(ev),
      // What the old connection queued is dropped; its marks can no longer be answered.
      lost: () => {
        this.out.clear();
        this.enginePaused = false;
      },
      failed: (detail) => this.engineFailed(detail),
    });
    // One malformed packet must not kill the media worker and every call on it.
    pair.rtp.on('message', guard('media.rtp', (m: Buffer, r: RemoteInfo) => this.onRtp(m, r), { context: () => ({ callId: this.req.callId }) }));
    pair.rtcp.on('message', guard('media.rtcp', (m: Buffer) => this.onRtcp(m), { context: () => ({ callId: this.req.callId }) }));
    pair.rtp.on('error', () => undefined);
    pair.rtcp.on('error', () => undefined);
  }

  get localPort(): number {
    return this.pair.rtpPort;
  }

  update(params: MediaParams): void {
    const moved = this.params && (this.params.remote.address !== params.remote.address || this.params.remote.port !== params.remote.port);
    const wasReceiving = this.params ? expectsInbound(this.params) : false;
    this.params = params;
    // A re-INVITE that moves the media re-opens latching on the new source (symmetric RTP).
    if (moved) this.latched = undefined;
    if (!wasReceiving && expectsInbound(params)) this.lastRtpAt = this.now();
  }

  start(custom?: Record<string, string>): void {
    if (this.closed || this.unpace) return;
    if (custom) Object.assign(this.req.meta.custom, custom);
    this.startedAt = this.lastRtpAt = this.now();
    this.unpace = this.deps.pacer.add(this);
    this.engine.start();
  }

  // ------------------------------------------------------------ engine link

  /** The engine is gone for good: the profile's failure policy (RFC-free: product behaviour). */
  private engineFailed(detail: string): void {
    const f = this.req.failure;
    if (f.policy === 'transfer' && f.transferTarget) {
      this.deps.emit({ type: 'control', control: { type: 'transfer', target: f.transferTarget, failover: true } });
    } else if (f.policy === 'play' && f.audioFile) {
      this.out.clear();
      this.out.pushUnbounded(readAnnouncement(f.audioFile));
      this.draining = true;
    } else {
      this.deps.emit({ type: 'ended', reason: 'engine-failed', detail });
    }
  }

  private control(ev: EngineControl): void {
    if (ev.type === 'dtmf') return this.dtmfToCaller(ev.digits);
    if (ev.type === 'hold' || ev.type === 'unhold') this.engineHold = ev.type === 'hold';
    this.deps.emit({ type: 'control', control: ev });
  }

  private fromEngine(payload: Buffer, format?: EngineFormat): void {
    const link = this.engine.up;
    const mulaw = engineToMuLaw(payload, format ?? link?.replyFormat ?? link?.format ?? 'mulaw8k', this.down);
    if (!mulaw) return;
    this.stats.engineFramesIn++;
    const dropped = this.out.pushAudio(mulaw);
    this.deps.pacer.runDue();
    if (dropped) {
      this.stats.backpressureDrops += dropped;
      const now = this.now();
      if (now - this.lastBackpressureNotice > 1000) {
        this.lastBackpressureNotice = now;
        this.engine.up?.sendError('backpressure', `more than ${this.deps.settings.engineBufferFrames / 50} s of audio queued; ${dropped} frame(s) dropped`);
      }
    }
  }

  dtmfFromCaller(digit: string): void {
    this.stats.dtmfIn++;
    this.engine.up?.sendDtmf(digit);
  }

  engineEvent(name: string, data: Record<string, unknown>): void {
    this.engine.up?.sendEvent(name, data);
  }

  dtmfToCaller(digits: string): void {
    for (const d of digits) this.dtmfOut.digits.push(d);
  }

  hold(on: boolean, kind: 'hold' | 'mute' = 'hold'): void {
    if (kind === 'mute') this.engineMuted = on;
    else this.engineHold = on;
    this.engine.up?.sendEvent(kind === 'mute' ? (on ? 'mute' : 'unmute') : on ? 'hold' : 'unhold', { by: 'gateway' });
  }

  engineError(code: string, message: string): void {
    this.engine.up?.sendError(code, message);
  }

  // ------------------------------------------------------------ caller -> engine

  private onRtp(msg: Buffer, from: RemoteInfo): void {
    const p = this.params;
    const h = p && !isRtcp(msg) ? parseRtp(msg) : null;
    if (!p || !h || (h.payloadType !== p.codec.payloadType && h.payloadType !== p.dtmf?.payloadType)) {
      this.stats.packetsDropped++;
      return;
    }
    if (!this.latched) this.latched = { address: from.address, port: from.port };
    else if (this.latched.address !== from.address || this.latched.port !== from.port) {
      this.stats.packetsDropped++;
      return;
    }
    const now = this.now();
    this.lastRtpAt = now;
    this.stats.packetsIn++;
    this.remoteSsrc = h.ssrc;
    this.rx.onPacket(h.sequence, h.timestamp, now, 8000);
    const payload = msg.subarray(h.payloadOffset);
    if (h.payloadType === p.dtmf?.payloadType) {
      const ev = this.dtmfIn.push(payload, h.timestamp, h.marker);
      if (ev) {
        this.stats.dtmfIn++;
        this.engine.up?.sendDtmf(ev.digit, ev.durationMs);
        this.deps.emit({ type: 'dtmf', digit: ev.digit });
      }
      return;
    }
    this.deliver(this.jitter.push({ sequence: h.sequence, timestamp: h.timestamp, payload, ssrc: h.ssrc }, now));
    // Ticks overdue by more than RESCUE_LATE_MS (a long batch of packets) go out now, not after the batch.
    this.deps.pacer.runDue();
  }

  private deliver(outs: JitterOut[]): void {
    for (const o of outs) {
      let mulaw: Uint8Array;
      if (o.kind === 'frame') {
        this.lostRun = 0;
        // PCMU goes on as the view of the packet it came in: the engine link copies it out at once.
        mulaw = this.params?.codec.name === 'PCMA' ? aLawToMuLaw(o.payload) : o.payload;
        const f = this.engine.up?.format;
        if (f === 'l16-16k' || f === 'l16-8k') this.prevPcm = decodeMuLaw(mulaw);
      } else {
        this.stats.lost++;
        this.lostRun++;
        // RFC 3550 leaves concealment to the receiver: repeat-and-fade keeps the engine's ASR stable.
        const pcm = concealFrame(this.prevPcm, this.lostRun, FRAME);
        mulaw = encodeMuLaw(pcm);
      }
      this.toEngine(mulaw);
    }
  }

  private toEngine(mulaw: Uint8Array): void {
    const e = this.engine.up;
    if (!e) return;
    const tsMs = Math.round(this.now() - this.startedAt);
    if (e.format === 'mulaw8k') e.sendAudio(mulaw, tsMs);
    else e.sendAudio(pcm8ToEngine(this.prevPcm ?? decodeMuLaw(mulaw), e.format, this.up), tsMs);
    this.stats.engineFramesOut++;
  }

  // ------------------------------------------------------------ engine -> caller (paced)

  tick(due: number, now: number): void {
    if (this.closed || !this.params) return;
    this.ticks++;
    if (now - this.lateWindowAt >= 1000) {
      this.latePrev = this.lateNow;
      this.lateNow = 0;
      this.lateWindowAt = now;
    }
    if (now - due > this.lateNow) this.lateNow = now - due;
    this.deliver(this.jitter.poll(now));
    const p = this.params;
    if (this.deps.settings.rtpTimeoutMs > 0 && expectsInbound(p) && now - this.lastRtpAt > this.deps.settings.rtpTimeoutMs) {
      this.deps.emit({ type: 'ended', reason: 'rtp-timeout', detail: `no RTP for ${Math.round((now - this.lastRtpAt) / 1000)} s` });
      this.stopPacing();
      return;
    }
    for (const m of this.out.takeMarks()) this.engine.up?.sendMark(m);
    const maySend = p.direction === 'sendrecv' || p.direction === 'sendonly';
    if (!this.sendDtmfPacket(maySend)) {
      const frame = this.enginePaused ? undefined : this.out.takeFrame();
      // Silence keeps carriers' media timers happy while the engine has nothing to say.
      const payload = frame && !this.engineHold && !this.engineMuted ? frame : SILENCE;
      if (maySend) this.sendRtp(p.codec.payloadType, p.codec.name === 'PCMA' ? Buffer.from(muLawToALaw(payload)) : payload, false, this.ts);
      if (this.engine.up?.realtime) {
        const drop = this.trim.observe(this.out.queuedFrames);
        if (drop) this.stats.realtimeTrimmed += this.out.skip(drop);
      }
    }
    // The media clock advances 20 ms per tick whatever was sent (RFC 3550 §5.1).
    this.ts = (this.ts + FRAME) >>> 0;
    for (const m of this.out.takeMarks()) this.engine.up?.sendMark(m);
    this.engine.up?.playout?.(this.out.queuedFrames, this.deps.settings.engineBufferFrames);
    if (this.draining && this.out.empty) {
      this.draining = false;
      this.deps.emit({ type: 'ended', reason: 'engine-failed', detail: 'engine unreachable; announcement played' });
    }
    if (this.ticks % RTCP_EVERY_TICKS === 0) this.sendRtcp();
  }

  /**
   * RFC 4733 §2.5: one event packet per tick while a digit plays (the sender spaces them 20 ms,
   * End three times), all stamped with the event's start timestamp. False when none is pending.
   */
  private sendDtmfPacket(maySend: boolean): boolean {
    const p = this.params!;
    if (!this.dtmfOut.train) {
      const digit = this.dtmfOut.digits.shift();
      if (digit === undefined) return false;
      if (!p.dtmf) {
        // No telephone-event negotiated: play the tones in band instead.
        const tone = dtmfToneMuLaw(digit);
        if (tone) this.out.pushUnbounded(tone);
        return false;
      }
      const pk = new TelephoneEventSender(p.dtmf.payloadType).packets(digit, 160);
      this.dtmfOut.train = { packets: pk.map((x) => x.payload), markers: pk.map((x) => x.marker), i: 0, ts: this.ts };
      this.stats.dtmfOut++;
    }
    const t = this.dtmfOut.train;
    if (maySend) this.sendRtp(p.dtmf!.payloadType, t.packets[t.i]!, t.markers[t.i]!, t.ts);
    t.i++;
    if (t.i >= t.packets.length) this.dtmfOut.train = undefined;
    return true;
  }

  private sendRtp(pt: number, payload: Buffer, marker: boolean, timestamp: number): void {
    const p = this.params!;
    const to = this.latched ?? p.remote;
    if (!to.port || to.address === '0.0.0.0') return;
    const pkt = buildRtp({ payloadType: pt, marker, sequence: this.seq, timestamp, ssrc: this.ssrc }, payload);
    this.seq = (this.seq + 1) & 0xffff;
    this.pair.rtp.send(pkt, to.port, to.address);
    this.stats.packetsOut++;
    this.sentPackets++;
    this.sentOctets += payload.length;
  }

  private sendRtcp(): void {
    const p = this.params!;
    const to = this.latched ?? p.remote;
    if (!to.port || to.address === '0.0.0.0') return;
    const report = this.remoteSsrc === undefined ? undefined : { ssrc: this.remoteSsrc, ...this.rx.report(this.now()) };
    const pkt = this.sentPackets > 0
      ? buildSenderReport({ ssrc: this.ssrc, ntpMs: Date.now(), rtpTimestamp: this.ts, packetCount: this.sentPackets, octetCount: this.sentOctets, ...(report ? { report } : {}) })
      : buildReceiverReport({ ssrc: this.ssrc, ...(report ? { report } : {}) });
    // RFC 3550 §11: RTCP goes to the next higher (odd) port unless the SDP says otherwise.
    this.pair.rtcp.send(pkt, to.port + 1, to.address);
  }

  /** RTCP from the peer: its SR feeds LSR/DLSR of our reports (RFC 3550 §6.4.1); malformed is dropped. */
  private onRtcp(m: Buffer): void {
    const pkts = parseRtcp(m);
    if (!pkts) {
      this.stats.packetsDropped++;
      return;
    }
    this.rtcpIn++;
    for (const p of pkts) if (p.type === 'sr') this.rx.onSenderReport(p.ntp, this.now());
  }

  /** This call's audio quality now. */
  live(): LiveMediaStats {
    const jitterUnits = this.rx.jitter;
    return {
      callId: this.req.callId,
      packetsIn: this.stats.packetsIn,
      packetsOut: this.stats.packetsOut,
      lost: this.stats.lost,
      late: this.stats.late,
      jitterMs: Math.round((jitterUnits / 8) * 10) / 10,
      queuedMs: this.out.queuedFrames * 20,
      pacerLateMs: Math.round(Math.max(this.lateNow, this.latePrev) * 100) / 100,
    };
  }

  private stopPacing(): void {
    this.unpace?.();
    this.unpace = undefined;
  }

  close(reason = 'call ended'): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPacing();
    this.engine.stop(reason);
    this.stats.engineReconnects = this.engine.reconnects;
    this.deps.release(this.pair);
  }
}

const SILENCE = Buffer.alloc(FRAME, MULAW_SILENCE);

/** Does the peer send us RTP in this negotiation (so silence from it means trouble)? */
function expectsInbound(p: MediaParams): boolean {
  return p.direction === 'sendrecv' || p.direction === 'recvonly';
}
