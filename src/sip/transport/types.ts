/** What the transport layer tells the stack about where a message came from or must go. */
export type TransportName = 'udp' | 'tcp';

export interface Address {
  address: string;
  port: number;
}

/** The path one message took: used to answer it (RFC 3261 §18.2.2) and to reuse connections. */
export interface Flow {
  transport: TransportName;
  local: Address;
  remote: Address;
  /** Set for connection-oriented transports: the connection the message arrived on. */
  connectionId?: number;
}

export interface Destination extends Address {
  transport: TransportName;
  /** Prefer this connection when it is still open (dialog flow reuse). */
  connectionId?: number;
}

export function isReliable(t: TransportName): boolean {
  return t !== 'udp';
}
