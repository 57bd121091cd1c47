/**
 * Types of the engine side of the media plane: one WebSocket per call attempt to an AI engine,
 * speaking either a Twilio Media Streams compatible protocol or raw 16 kHz L16 PCM.
 * The wire format is documented in docs/engine-protocol.md.
 */
export type EngineProtocol = 'twilio' | 'l16';

export interface StreamMeta {
  /** Gateway's id for the call (e.g. 'CA' + 32 hex). */
  callSid: string;
  /** 'MZ' + 32 hex. */
  streamSid: string;
  /** Gateway name, e.g. 'vagw-1'. */
  accountSid: string;
  sipCallId: string;
  agentId: string;
  /** The 899 number. */
  number: string;
  caller: string;
  dnis: string;
  profile: string;
  /** Vendor call ids, e.g. { transactionId: '1088..', sessionId: 'U5EF..@10...' }. */
  vendor: Record<string, string>;
  /** Extra customParameters. */
  custom: Record<string, string>;
}

/** What an engine may ask the gateway to do, besides playing audio. */
export type EngineControl =
  | { type: 'hangup'; termCode?: string; reason?: string }
  /** `failover` marks the transfer the failure policy asks for when the engine is gone. */
  | { type: 'transfer'; phonebook?: string; contact?: string; target?: string; failover?: boolean }
  /** Send these digits to the caller. */
  | { type: 'dtmf'; digits: string }
  | { type: 'hold' }
  | { type: 'unhold' }
  | { type: 'updateContact'; fields: Record<string, string> };

export interface EngineOptions {
  url: string;
  protocol: EngineProtocol;
  secret?: string;
  meta: StreamMeta;
  /** True on the second attempt: the `start` says so. */
  reconnect?: boolean;
  /** Default 3000. */
  connectTimeoutMs?: number;
  /** Default 65536: larger incoming frames close the socket (1009). */
  maxFrameBytes?: number;
  /** Default 1 MiB: above this many unsent bytes audio is dropped (counted in stats.backpressure). */
  maxBufferedBytes?: number;
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer };
}

export interface EngineCloseInfo {
  code: number;
  reason: string;
  /** True when the gateway closed the socket (stop, oversized frame, engine too slow). */
  byUs: boolean;
}

export interface EngineStats {
  /** WebSocket messages received / sent (text and binary). */
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** `error` events sent back for malformed messages. */
  errorsSent: number;
  /** Audio frames dropped because the engine did not read fast enough. */
  backpressure: number;
}

/** Error codes the gateway puts in `error` events. */
export type EngineErrorCode =
  | 'invalid-json'
  | 'unknown-event'
  | 'invalid-message'
  | 'wrong-stream'
  | 'backpressure';
