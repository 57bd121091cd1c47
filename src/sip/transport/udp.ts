/** UDP listening point: one socket per profile address, used both to receive and to send. */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Address } from './types.js';
import { guard } from '../../util/faults.js';

export class UdpTransport {
  private socket: dgram.Socket;
  local: Address;

  constructor(
    host: string,
    port: number,
    private readonly onDatagram: (data: Buffer, remote: Address, local: Address) => void,
    private readonly onError: (err: Error) => void,
  ) {
    this.local = { address: host, port };
    this.socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    // The fault boundary: whatever one datagram reaches, the socket keeps receiving.
    this.socket.on(
      'message',
      guard('sip.udp.message', (data: Buffer, rinfo: dgram.RemoteInfo) => this.onDatagram(data, { address: rinfo.address, port: rinfo.port }, this.local), {
        context: (_d, r) => ({ remote: `${r.address}:${r.port}` }),
      }),
    );
    this.socket.on('error', (err) => this.onError(err));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (e: Error): void => reject(e);
      this.socket.once('error', fail);
      this.socket.bind(this.local.port, this.local.address, () => {
        this.socket.off('error', fail);
        // Bursts of calls arrive faster than the event loop drains them under load; a larger
        // receive buffer turns short bursts into latency instead of loss.
        try {
          this.socket.setRecvBufferSize(8 * 1024 * 1024);
          this.socket.setSendBufferSize(8 * 1024 * 1024);
        } catch {
          /* the kernel caps these; the default still works */
        }
        this.local = { address: this.local.address, port: this.socket.address().port };
        resolve();
      });
    });
  }

  send(data: Buffer, to: Address): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(data, to.port, to.address, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
