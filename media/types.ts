/**
 * The narrow interface between the call layer and the media plane. The media plane knows
 * nothing of SIP or vendors: it is told where to send, in which codec and direction, and which
 * engine to bridge to; it reports back only why a session ended.
 */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MediaParams {
  codec: { name: 'PCMU' | 'PCMA'; payloadType: number; clockRate: number };
  dtmf?: { payloadType: number; clockRate: number };
  remote: { address: string; port: number };
  /** What we may do: 'recvonly' and 'inactive' mean we must not send (the peer holds the call). */
  direction: MediaDirection;
  ptime: number;
}

export interface MediaSessionStats {
  packetsIn: number;
  packetsOut: number;
  /** Dropped: not RTP v2, truncated, unknown payload type, or from a third address. */
  packetsDropped: number;
}

export type MediaEndReason = 'engine-hangup' | 'engine-failed' | 'rtp-timeout';

export interface MediaSession {
  readonly localPort: number;
  /** Start (or change, on re-INVITE) what is negotiated. */
  update(params: MediaParams): void;
  readonly stats: MediaSessionStats;
  /** Called once if the media side ends the call on its own. */
  onEnd?: (reason: MediaEndReason) => void;
  /** Idempotent; releases the ports. */
  close(): void;
}

export interface MediaPlane {
  /** Reserve ports and create a session bound to the engine; not yet sending. */
  open(callId: string, engine: string): Promise<MediaSession>;
  readonly activeSessions: number;
  close(): Promise<void>;
}
