/**
 * An in-memory datagram network for unit tests: endpoints bound to it exchange SIP messages as
 * UDP would (same flows, same transport rules), synchronously queued on microtasks, with no
 * sockets and no sleeps.
 */
import type { Address, DatagramFactory, DatagramTransport } from './types.js';

export type { DatagramFactory, DatagramTransport };

export class MemoryNetwork {
  private bound = new Map<string, (data: Buffer, remote: Address) => void>();
  private nextPort = 40_000;

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
        const copy = Buffer.from(data);
        queueMicrotask(() => this.bound.get(`${to.address}:${to.port}`)?.(copy, local));
      },
      close: async () => void this.bound.delete(key),
    };
  }
}
