/**
 * The narrow interface between the call layer and the media plane. The media plane knows
 * nothing of SIP or vendors: it is told where to send, in which codec and direction, which engine
 * to bridge to and with what metadata; it reports back why it ended a call and what the engine
 * asked for.
 */
import type { AsteriskOptions } from './engine/dialects/asterisk.js';
import type { JambonzOptions } from './engine/dialects/jambonz.js';
import type { EngineControl, StreamMeta } from './engine/types.js';

export type { EngineControl, StreamMeta };

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MediaParams {
  codec: { name: 'PCMU' | 'PCMA'; payloadType: number; clockRate: number };
  dtmf?: { payloadType: number; clockRate: number };
  remote: { address: string; port: number };
  /** What we may do: 'recvonly' and 'inactive' mean we must not send (the peer holds the call). */
  direction: MediaDirection;
  ptime: number;
}

/** Where the engine is: a builtin running inside the media worker, or a WebSocket endpoint. */
export type EngineTarget =
  | { kind: 'builtin'; name: 'echo' | 'demo' }
  | {
    kind: 'ws'; name: string; url: string; protocol: 'twilio' | 'l16' | 'jambonz' | 'asterisk'; secret?: string; connectTimeoutMs: number; tlsRejectUnauthorized: boolean;
    /** Stream dialects' settings (media/engine/dialects/), present for their protocol. */
    jambonz?: JambonzOptions;
    asterisk?: AsteriskOptions;
  }
  /**
   * A WebRTC far end (browser, SIP.js client, server-side WebRTC engine) bridged by the media plane
   * (media/webrtc/). `codecs` is the preference order of our offer (telephone-event is always
   * added); `connectTimeoutMs` bounds answer + ICE + DTLS.
   */
  | { kind: 'webrtc'; name: string; codecs: ('opus' | 'PCMU' | 'PCMA')[]; connectTimeoutMs: number };

/**
 * WebRTC signalling between the media plane and the call layer (which carries it over SIP or the
 * /webrtc socket). Out (onSignal): our complete, non-trickle offer. In (signal): the far end's
 * answer, trickled candidates, or 'failed' when the far end refused, timed out or left.
 */
export type WebRtcSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid?: string }
  | { type: 'failed'; reason: string };

export interface FailurePolicy {
  policy: 'hangup' | 'transfer' | 'play';
  transferTarget?: string;
  audioFile?: string;
  reconnectWindowMs: number;
}

/** ICE of WebRTC far ends (RFC 8445): where our candidates live and how the far end finds them. */
export interface IceSettings {
  /** Host candidates bind only inside this range (a firewall rule can name it); never the RTP range. */
  portMin: number;
  portMax: number;
  /** The address written into our host candidates and c= line (1:1 NAT: the public address). */
  advertisedAddress?: string;
  /** STUN/TURN servers offered to ICE (server-reflexive and relayed candidates). */
  servers: { urls: string; username?: string; credential?: string }[];
}

export interface MediaSettings {
  host: string;
  /** WebRTC far ends' ICE; absent: any free port, the media host's address. */
  ice?: IceSettings;
  rtpTimeoutMs: number;
  jitterMinMs: number;
  jitterMaxMs: number;
  /** Outbound audio the engine may queue ahead of real time, in 20 ms frames. */
  engineBufferFrames: number;
}

export interface OpenRequest {
  callId: string;
  engine: EngineTarget;
  meta: StreamMeta;
  failure: FailurePolicy;
}

export interface MediaSessionStats {
  packetsIn: number;
  packetsOut: number;
  /** Dropped: not RTP v2, truncated, unknown payload type, or from a third address. */
  packetsDropped: number;
  lost: number;
  late: number;
  dtmfIn: number;
  dtmfOut: number;
  engineFramesIn: number;
  engineFramesOut: number;
  engineReconnects: number;
  backpressureDrops: number;
  /** Frames of a real-time far end (WebRTC, echo) dropped because they were only delay. */
  realtimeTrimmed: number;
  /** `clear` events from the engine (barge-in: the audio it had queued was dropped). */
  engineClears: number;
  /** Messages from a stream-dialect engine its protocol does not allow (not acted on). */
  engineRejected: number;
}

/** One live call's audio quality now (the dashboard polls it; the final record has the totals). */
export interface LiveMediaStats {
  callId: string;
  packetsIn: number;
  packetsOut: number;
  lost: number;
  late: number;
  /** RFC 3550 §6.4.1 interarrival jitter of the caller's RTP, in ms. */
  jitterMs: number;
  /** Engine audio queued for the caller, in ms. */
  queuedMs: number;
  /** The worst lateness of this call's 20 ms ticks over the last second, in ms. */
  pacerLateMs: number;
}

export type MediaEndReason = 'engine-hangup' | 'engine-failed' | 'rtp-timeout' | 'media-failure';

export interface MediaEvents {
  /** The media side ends the call (the call layer then runs its single end path). */
  onEnd?: (reason: MediaEndReason, detail?: string) => void;
  /** Call control the engine asked for (hangup with term code, transfer, dtmf, hold, ...). */
  onControl?: (ev: EngineControl) => void;
  /** A DTMF digit the caller sent in RTP (RFC 4733). */
  onDtmf?: (digit: string) => void;
  /** Something about the engine worth a log line (the first of each kind of rejected message). */
  onNotice?: (text: string) => void;
  /**
   * WebRTC engines only: signalling for the far end. Fires once with `{type:'offer'}` after
   * start(), when ICE gathering is complete (the SDP carries every candidate). Set it before start().
   */
  onSignal?: (s: WebRtcSignal) => void;
}

export interface MediaSession extends MediaEvents {
  readonly localPort: number;
  /** Set (or change, on re-INVITE) what is negotiated; the first call starts the media. */
  update(params: MediaParams): void;
  /**
   * The call is answered: connect the engine and start streaming. `custom` joins the
   * `customParameters` of the engine's `start` (vendor ids, screen pop fetched after the INVITE).
   */
  start(custom?: Record<string, string>): void;
  /** DTMF received by signalling (SIP INFO): hand it to the engine. */
  dtmfFromCaller(digit: string): void;
  /** An extension event to the engine (e.g. `screenPop`, `hold`). */
  engineEvent(name: string, data: Record<string, unknown>): void;
  /** Play digits to the caller (what an engine's `dtmf` control does). */
  dtmfToCaller(digits: string): void;
  /**
   * Hold from our side: the caller hears silence instead of the engine; the engine is told
   * (`hold`/`unhold`). `mute` (a platform muting its agent) silences the engine toward the caller
   * the same way while the engine keeps hearing the caller, and is told `mute`/`unmute`.
   */
  hold(on: boolean, kind?: 'hold' | 'mute'): void;
  /** Tell the engine an action it asked for was refused (`error` event with code and reason). */
  engineError(code: string, message: string): void;
  /**
   * WebRTC engines only: the far end's answer (checked before it is applied: fingerprint, ICE
   * credentials, a common codec), trickled candidates, or 'failed' (refused, timed out, gone).
   * A bad answer or a 'failed' ends the engine through the failure policy (onEnd 'engine-failed').
   * Ignored for other engines.
   */
  signal(s: WebRtcSignal): void;
  /** Idempotent; sends `stop` to the engine and releases the ports. */
  close(reason?: string): void;
  readonly stats: MediaSessionStats;
  /** The counters once the media plane has closed the session (its last word on the call). */
  readonly final: Promise<MediaSessionStats>;
}

export interface MediaPlane {
  /** Reserve ports and create a session bound to the engine; nothing flows before start(). */
  open(req: OpenRequest): Promise<MediaSession>;
  readonly activeSessions: number;
  portsInUse(): number;
  portsFree(): number;
  /** Every live call's audio quality now. */
  live?(): Promise<LiveMediaStats[]>;
  /** The worst 20 ms tick lateness of the media workers lately (ms): their headroom. */
  lateMs?(): number;
  close(): Promise<void>;
}
