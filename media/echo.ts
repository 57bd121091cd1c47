/**
 * `builtin:echo`: returns the caller's audio to the caller. Walking-skeleton media session: it
 * runs on the main thread and relays packet by packet (no jitter buffer, no pacing; those come
 * with the real media plane). It already follows the rules that matter to carriers: only valid RTP
 * in the negotiated payload types is accepted, the source is latched (symmetric RTP, RFC 4961) and
 * packets from a third address are dropped, our own SSRC and sequence are used, and nothing is
 * sent while the peer holds the call.
 */
import { randomInt } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import type { PortPair, PortPool } from './ports.js';
import { isRtcp, parseRtp } from './rtp.js';
import type { MediaEndReason, MediaParams, MediaSession, MediaSessionStats } from './types.js';

export class EchoSession implements MediaSession {
  readonly stats: MediaSessionStats = { packetsIn: 0, packetsOut: 0, packetsDropped: 0 };
  onEnd?: (reason: MediaEndReason) => void;
  private params?: MediaParams;
  private latched?: { address: string; port: number };
  private readonly ssrc = randomInt(0, 0xffffffff);
  private seq = randomInt(0, 0xffff);
  private closed = false;

  constructor(
    private readonly pair: PortPair,
    private readonly pool: PortPool,
    private readonly onClosed: () => void = () => undefined,
  ) {
    pair.rtp.on('message', (m, r) => this.onPacket(m, r));
    // RTCP is accepted and ignored here; reports are the media plane's job.
    pair.rtcp.on('message', () => undefined);
    pair.rtp.on('error', () => undefined);
    pair.rtcp.on('error', () => undefined);
  }

  get localPort(): number {
    return this.pair.rtpPort;
  }

  update(params: MediaParams): void {
    const changed = this.params && (this.params.remote.address !== params.remote.address || this.params.remote.port !== params.remote.port);
    this.params = params;
    // A re-INVITE that moves the media re-opens latching on the new source.
    if (changed) this.latched = undefined;
  }

  private onPacket(msg: Buffer, from: RemoteInfo): void {
    const p = this.params;
    const h = parseRtp(msg);
    if (!p || !h || isRtcp(msg) || (h.payloadType !== p.codec.payloadType && h.payloadType !== p.dtmf?.payloadType)) {
      this.stats.packetsDropped++;
      return;
    }
    if (!this.latched) this.latched = { address: from.address, port: from.port };
    else if (this.latched.address !== from.address || this.latched.port !== from.port) {
      this.stats.packetsDropped++;
      return;
    }
    this.stats.packetsIn++;
    if (p.direction === 'recvonly' || p.direction === 'inactive') return;
    const out = Buffer.from(msg);
    out.writeUInt16BE(this.seq, 2);
    this.seq = (this.seq + 1) & 0xffff;
    out.writeUInt32BE(this.ssrc, 8);
    this.pair.rtp.send(out, this.latched.port, this.latched.address, (err) => {
      if (!err) this.stats.packetsOut++;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.release(this.pair);
    this.onClosed();
  }
}
