import type { VendorName, VendorSettings } from '../vendors/settings.js';
export type { LiveVoxConfig } from '../vendors/livevox/settings.js';

// Validated, fully-defaulted configuration as handed to the rest of the gateway.
// Produced only by loadConfig(); every field is present, so consumers never need
// to know about defaults or YAML syntax.

export type Transport = 'udp' | 'tcp';
export type CodecName = 'PCMU' | 'PCMA' | 'telephone-event';
export type NumberNormalization = 'nanp' | 'digits' | 'exact';
export type AgentInitialState = 'ready' | 'not-ready';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AgentConfig {
  id: string;
  /** The number as written in the YAML (or generated from a range, same formatting as `from`). */
  number: string;
  /** normalizeNumber(number, profile.numberNormalization): the routing key. */
  key: string;
  initialState: AgentInitialState;
  /** Resolved engine: the agent's own, else the profile's. */
  engine: string;
  /** Contact-center login (default: the agent id; for a range, `vendorUser` + the number suffix). */
  vendorUser: string;
  /** Contact-center password; defaults to the profile's contactCenter.password. */
  vendorPassword?: string;
  /** Digest password for REGISTER (SIP over WebSocket); absent: registrations are refused (403). */
  sipPassword?: string;
}

export interface ContactCenterConfig {
  /** 'none', or a platform of src/vendors/registry.ts. */
  vendor: 'none' | VendorName;
  serviceId?: string;
  password?: string;
  /** Absent: always open. Days map to "HH:MM-HH:MM" or "closed" in `timeZone`. */
  openHours?: { timeZone: string; weekly: Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', string> };
  keepAliveMinutes: number;
  screenPopWaitMs: number;
  termCodes: { completed: string; callerHungUp: string; transferred: string; failed: string };
  wrapUp: { maxAttempts: number; retryMs: number };
}

export type WebRtcCodec = 'opus' | 'PCMU' | 'PCMA';

export interface SipProfile {
  /** Absolute path of the profile YAML; for a profile written inline in gateway.yaml, the gateway.yaml path. */
  file: string;
  name: string;
  listen: {
    host: string;
    port: number;
    transports: Transport[];
    /** Host put in Via/Contact; defaults to host; required if host is 0.0.0.0 or ::. */
    advertisedHost: string;
    /** SIP over WebSocket on the gateway HTTP port at /sip (at most one profile). */
    websocket: boolean;
  };
  /** CIDRs (IPv4 or IPv6). Never empty: use 0.0.0.0/0 (and ::/0) explicitly to trust everyone. */
  trustedSources: string[];
  /** Preference order; contains at least one audio codec (PCMU or PCMA). */
  codecs: CodecName[];
  /** 10..60, multiple of 10. */
  ptime: number;
  numberNormalization: NumberNormalization;
  /** 0 = no limit. The gateway sends BYE when reached. */
  maxCallSeconds: number;
  /** Ring (180) this long before answering; 0 answers at once. */
  answerDelayMs: number;
  /** RFC 4028 session timer: minSE >= 90, defaultExpires >= minSE. */
  sessionTimer: { minSE: number; defaultExpires: number };
  /** SIP edge protection on UDP/TCP: untrusted sources, per-source rate, TCP connection limits. */
  edge: EdgeLimits;
  /** Default engine for this profile's agents: 'builtin:echo', 'builtin:demo' or a ws:// / wss:// URL. */
  engine: string;
  /** What happens when the engine cannot be reached (after one reconnect within the window). */
  engineFailure: EngineFailurePolicy;
  /** The contact center that drives this profile's agents (vendor 'none': agents as configured). */
  contactCenter: ContactCenterConfig;
  /** WebRTC far ends ('webrtc:sip', 'webrtc:attach'): offered codecs in preference order, ICE+DTLS limit. */
  webrtc: { codecs: WebRtcCodec[]; connectTimeoutSeconds: number };
  /** At least one. */
  agents: AgentConfig[];
}

export interface EngineFailurePolicy {
  policy: 'hangup' | 'transfer' | 'play';
  transferTarget?: string;
  /** Absolute path (resolved against the profile file) of a WAV/raw mu-law file to play. */
  audioFile?: string;
  reconnectWindowMs: number;
}

export interface EngineConfig {
  url: string;
  protocol: 'twilio' | 'l16' | 'jambonz' | 'asterisk';
  /** Present (with defaults) when protocol is jambonz: the listen verb's rates. */
  jambonz?: { sampleRate: 8000 | 16000; replySampleRate?: 8000 | 16000 };
  /** Present (with defaults) when protocol is asterisk: the channel codec and control format. */
  asterisk?: { format: 'ulaw' | 'slin' | 'slin16'; controlFormat: 'json' | 'plain-text' };
  secret?: string;
  /** Password of Twilio-compatible REST call control (user: the AccountSid in `start`). */
  restAuthToken?: string;
  connectTimeoutMs: number;
  tlsRejectUnauthorized: boolean;
}


/** With each platform's settings section (`livevox:`, ...), declared in src/vendors/<name>/settings.ts. */
export interface GatewayConfig extends VendorSettings {
  /** Absolute path of gateway.yaml. */
  file: string;
  gateway: {
    name: string;
    /** Serves /healthz and /metrics; port 0 = ephemeral. */
    http: { host: string; port: number };
    /** Beyond these the gateway answers 503 with Retry-After: retryAfterSeconds. */
    limits: { maxCalls: number; maxCallsPerSecond: number; retryAfterSeconds: number };
    /** Limits of the overload signals; 0 = that signal off (src/call/overload.ts). */
    overload: { eventLoopDelayMs: number; eventLoopUtilization: number; mediaLatenessMs: number; pendingWrapUps: number; wrapUpAgeMs: number; callsInSetup: number };
    drainTimeoutSeconds: number;
    logLevel: LogLevel;
    /** Bearer token for /webrtc (server-side WebRTC engines); unset: attach is refused. */
    attachToken?: string;
  };
  media: {
    /** Address put in the SDP c= line. */
    host: string;
    /** Even, rtpPortMin < rtpPortMax, both within 1024..65535. */
    rtpPortMin: number;
    rtpPortMax: number;
    /** Media worker threads; 0 = one per CPU core. */
    workers: number;
    rtpTimeoutSeconds: number;
    jitterMinMs: number;
    jitterMaxMs: number;
    engineBufferSeconds: number;
    /** ICE of WebRTC far ends: candidate port range (outside the RTP range), advertised address, STUN/TURN. */
    webrtc: { icePortMin: number; icePortMax: number; advertisedAddress?: string | undefined; iceServers: { urls: string; username?: string | undefined; credential?: string | undefined }[] };
  };
  /** Named engines that profiles and agents refer to. */
  engines: Record<string, EngineConfig>;
  /** Absolute directory for durable state (the wrap-up outbox). */
  dataDir: string;
  /** Several nodes behind Kamailio, agent ownership in Redis; absent: this node serves every agent. */
  cluster?: { redis: string; name: string; nodeId?: string | undefined; sipAddress?: string | undefined; httpAddress?: string | undefined; leaseTtlMs: number } | undefined;
  profiles: SipProfile[];
}

export interface EdgeLimits {
  /** Untrusted sources: ignored (no answer, counted) or answered 403 (debugging). */
  untrusted: 'ignore' | 'reject';
  /** Messages per second per source address, 0 = no limit; burst defaults to twice that. */
  perSourceRequestsPerSecond: number;
  perSourceBurst?: number | undefined;
  tcp: { maxConnections: number; maxConnectionsPerSource: number; messageTimeoutSeconds: number; idleTimeoutSeconds: number };
}
