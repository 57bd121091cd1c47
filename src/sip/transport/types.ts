/** What the transport layer tells the stack about where a message came from or must go. */
export type TransportName = 'udp' | 'tcp' | 'ws' | 'wss';

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
  /**
   * Prefer this connection when it is still open (dialog flow reuse). For WebSocket it is the only
   * way to reach the peer: the gateway cannot open a WebSocket towards a client.
   */
  connectionId?: number;
}

export function isReliable(t: TransportName): boolean {
  return t !== 'udp';
}

export function isWebSocket(t: TransportName): t is 'ws' | 'wss' {
  return t === 'ws' || t === 'wss';
}

/**
 * The destination that reaches a peer back along the flow its request came on (RFC 5626 §5.3 flow
 * reuse; RFC 7118 §5: a WebSocket client's Contact host is usually `xxx.invalid` and is never used
 * for routing, only the connection is).
 */
export function flowDestination(flow: Flow): Destination {
  const d: Destination = { transport: flow.transport, address: flow.remote.address, port: flow.remote.port };
  if (flow.connectionId !== undefined) d.connectionId = flow.connectionId;
  return d;
}

/** A datagram listening point: the UDP socket, or an in-memory one in unit tests (memory.ts). */
export interface DatagramTransport {
  local: Address;
  listen(): Promise<void>;
  send(data: Buffer, to: Address): Promise<void>;
  close(): Promise<void>;
}

export type DatagramFactory = (host: string, port: number, onDatagram: (data: Buffer, remote: Address, local: Address) => void, onError: (e: Error) => void) => DatagramTransport;
