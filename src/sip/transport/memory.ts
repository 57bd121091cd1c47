/**
 * An in-memory datagram network for unit tests: endpoints bound to it exchange SIP messages as
 * UDP would (same flows, same transport rules), synchronously queued on microtasks, with no
 * sockets and no sleeps. `drop` lets a test lose datagrams to exercise retransmission timers.
 */
import type { Address, DatagramFactory, DatagramTransport } from './types.js';

export type { DatagramFactory, DatagramTransport };

export class MemoryNetwork {
  private bound = new Map<string, (data: Buffer, remote: Address) => void>();
  private nextPort = 40_000;
  /** Datagrams delivered, in order (text), for assertions. */
  readonly log: { from: string; to: string; text: string }[] = [];
  /** Return true to lose a datagram. */
  drop: (text: string, to: Address) => boolean = () => false;

  /** A factory for `EndpointOptions.datagram`. */
  readonly factory: DatagramFactory = (host, port, onDatagram) => this.bind(host, port, onDatagram);

  bind(host: string, port: number, onDatagram: (data: Buffer, remote: Address, local: Address) => void): DatagramTransport {
    const local: Address = { address: host, port: port || this.nextPort++ };
    const key = `${local.address}:${local.port}`;
    return {
      local,
      listen: async () => {
        if (this.bound.has(key)) throw new Error(`${key} is already bound on the memory network`);
        this.bound.set(key, (d, r) => onDatagram(d, r, local));
      },
      send: async (data, to) => {
        const text = data.toString('utf8');
        if (this.drop(text, to)) return;
        this.log.push({ from: key, to: `${to.address}:${to.port}`, text });
        const copy = Buffer.from(data);
        queueMicrotask(() => this.bound.get(`${to.address}:${to.port}`)?.(copy, local));
      },
      close: async () => void this.bound.delete(key),
    };
  }
}
