/**
 * RTP/RTCP port pairs from a configured range (RFC 3550 §11: RTP on an even port, RTCP on the
 * next odd one). A pair is taken by binding both sockets, so a port some other process holds is
 * skipped rather than handed out; released pairs go to the back of the queue so a late packet
 * from an ended call does not land in the next one.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface PortPair {
  rtpPort: number;
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
}

export class PortPoolExhausted extends Error {
  override readonly name = 'PortPoolExhausted';
}

export class PortPool {
  private free: number[] = [];
  private used = new Set<number>();

  constructor(
    private readonly host: string,
    min: number,
    max: number,
  ) {
    for (let p = min + (min % 2); p + 1 <= max; p += 2) this.free.push(p);
  }

  get available(): number {
    return this.free.length;
  }

  get inUse(): number {
    return this.used.size;
  }

  async allocate(): Promise<PortPair> {
    // Bounded: every free port is tried at most once per call.
    for (let tries = this.free.length; tries > 0; tries--) {
      const port = this.free.shift()!;
      try {
        const rtp = await bind(this.host, port);
        try {
          const rtcp = await bind(this.host, port + 1);
          this.used.add(port);
          return { rtpPort: port, rtp, rtcp };
        } catch (e) {
          rtp.close();
          throw e;
        }
      } catch {
        // Held by someone else: try it again later, after every other port.
        this.free.push(port);
      }
    }
    throw new PortPoolExhausted('no free RTP port pair in the configured range');
  }

  release(pair: PortPair): void {
    if (!this.used.delete(pair.rtpPort)) return;
    for (const s of [pair.rtp, pair.rtcp]) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
    this.free.push(pair.rtpPort);
  }
}

function bind(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    s.once('error', reject);
    s.bind({ port, address: host, exclusive: true }, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}
