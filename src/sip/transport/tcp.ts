/**
 * TCP listening point (RFC 3261 §18). Incoming bytes are framed by Content-Length; a connection
 * whose stream cannot be framed (oversized or endless input) is closed, since it cannot resync.
 * Connections are indexed by id and by remote address so responses and in-dialog requests reuse
 * the connection the peer opened (§18.2.2, and what peers behind NAT need).
 *
 * Limits, so idle or slow peers cannot hold the listener: a total and a per-source connection cap
 * (checked at accept), a deadline to deliver each message once its first byte arrived (and for a
 * new connection to deliver its first message: an endless or trickled header section is closed),
 * and an idle timeout longer than the RFC 5626 §4.4.1 keep-alive interval (CRLF pings every
 * 95-120 s keep a flow open).
 */
import net from 'node:net';
import { FramingError, StreamFramer, type FramerLimits } from '../framer.js';
import type { Address } from './types.js';
import { guard } from '../../util/faults.js';

export interface TcpEvents {
  message(data: Buffer, remote: Address, local: Address, connectionId: number): void;
  framingError(err: FramingError, remote: Address): void;
  /** May this peer connect? (trust check) False closes the socket before it is read. */
  accept?(remote: Address): boolean;
  /** A connection closed by a limit: 'total', 'per-source', 'message-timeout', 'idle'. */
  refused?(why: TcpCloseReason, remote: Address): void;
  error(err: Error): void;
}

export type TcpCloseReason = 'total' | 'per-source' | 'message-timeout' | 'idle';

export interface TcpLimits {
  /** Idle connections are closed after this long (no bytes either way). */
  idleTimeoutMs: number;
  /** Connections at once (accepted and opened). */
  maxConnections: number;
  /** Accepted connections at once from one source address. */
  maxConnectionsPerSource: number;
  /** A message must be complete this long after its first byte (and a new connection's first one). */
  messageTimeoutMs: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = { idleTimeoutMs: 300_000, maxConnections: 2000, maxConnectionsPerSource: 64, messageTimeoutMs: 10_000 };

interface Conn {
  id: number;
  socket: net.Socket;
  remote: Address;
  key: string;
  inbound: boolean;
  /** Deadline for the message being received (or the first one), if armed. */
  deadline?: NodeJS.Timeout;
}

const CRLF = Buffer.from('\r\n');

export class TcpTransport {
  private server: net.Server;
  private conns = new Map<number, Conn>();
  private byRemote = new Map<string, Conn>();
  private nextId = 1;
  /** Accepted connections per source address (the per-source cap). */
  private perSource = new Map<string, number>();
  local: Address;

  constructor(
    host: string,
    port: number,
    private readonly events: TcpEvents,
    private readonly opts: TcpLimits & { framer: FramerLimits },
  ) {
    this.local = { address: host, port };
    this.server = net.createServer((s) => this.incoming(s));
    this.server.on('error', (e) => this.events.error(e));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (e: Error): void => reject(e);
      this.server.once('error', fail);
      this.server.listen(this.local.port, this.local.address, () => {
        this.server.off('error', fail);
        const a = this.server.address() as net.AddressInfo;
        this.local = { address: this.local.address, port: a.port };
        resolve();
      });
    });
  }

  /** Accept checks, cheapest first, before a byte is read. */
  private incoming(socket: net.Socket): void {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    socket.on('error', () => socket.destroy());
    if (this.events.accept && !this.events.accept(remote)) return void socket.destroy();
    let why: TcpCloseReason | undefined;
    if (this.conns.size >= this.opts.maxConnections) why = 'total';
    else if ((this.perSource.get(remote.address) ?? 0) >= this.opts.maxConnectionsPerSource) why = 'per-source';
    if (why) {
      this.events.refused?.(why, remote);
      return void socket.destroy();
    }
    this.perSource.set(remote.address, (this.perSource.get(remote.address) ?? 0) + 1);
    this.adopt(socket, true);
  }

  private adopt(socket: net.Socket, inbound: boolean): Conn {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const conn: Conn = { id: this.nextId++, socket, remote, key: `${remote.address}:${remote.port}`, inbound };
    this.conns.set(conn.id, conn);
    this.byRemote.set(conn.key, conn);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleTimeoutMs, () => this.closeFor(conn, 'idle'));
    const framer = new StreamFramer(this.opts.framer);
    // A peer that connects must say something within the deadline.
    if (inbound) this.arm(conn);
    // The fault boundary: a bug reached by these bytes closes this connection, not the process.
    const onData = guard('sip.tcp.data', (chunk: Buffer) => {
      let frames;
      try {
        frames = framer.push(chunk);
      } catch (e) {
        if (!(e instanceof FramingError)) throw e;
        this.events.framingError(e, remote);
        socket.destroy();
        return;
      }
      let delivered = false;
      for (const f of frames) {
        // RFC 5626 §3.5.1: answer a CRLFCRLF keep-alive ping with a CRLF pong.
        if (f.kind === 'ping') socket.write(CRLF);
        else {
          delivered = true;
          this.events.message(f.data, remote, this.local, conn.id);
        }
      }
      // The deadline runs from a message's first byte to its last: re-armed for each new one.
      if (framer.buffered === 0) this.disarm(conn);
      else if (delivered || !conn.deadline) this.arm(conn);
    }, { context: () => ({ remote: conn.key }), onFault: () => socket.destroy() });
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.disarm(conn);
      this.conns.delete(conn.id);
      if (this.byRemote.get(conn.key) === conn) this.byRemote.delete(conn.key);
      if (inbound) {
        const n = (this.perSource.get(remote.address) ?? 1) - 1;
        if (n > 0) this.perSource.set(remote.address, n);
        else this.perSource.delete(remote.address);
      }
    });
    return conn;
  }

  private arm(conn: Conn): void {
    this.disarm(conn);
    conn.deadline = setTimeout(() => this.closeFor(conn, 'message-timeout'), this.opts.messageTimeoutMs);
    conn.deadline.unref();
  }

  private disarm(conn: Conn): void {
    if (conn.deadline) clearTimeout(conn.deadline);
    conn.deadline = undefined;
  }

  private closeFor(conn: Conn, why: TcpCloseReason): void {
    this.events.refused?.(why, conn.remote);
    conn.socket.destroy();
  }

  isOpen(connectionId: number): boolean {
    return this.conns.has(connectionId);
  }

  /**
   * Send on the given connection if open, else on any connection to that address, else open one.
   * Returns the connection id used.
   */
  async send(data: Buffer, to: Address, connectionId?: number): Promise<number> {
    let conn = connectionId !== undefined ? this.conns.get(connectionId) : undefined;
    conn ??= this.byRemote.get(`${to.address}:${to.port}`);
    conn ??= await this.connect(to);
    conn.socket.write(data);
    return conn.id;
  }

  private connect(to: Address): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: to.address, port: to.port });
      const fail = (e: Error): void => reject(e);
      socket.once('error', fail);
      const timedOut = (): void => void socket.destroy(new Error(`TCP connect to ${to.address}:${to.port} timed out`));
      socket.setTimeout(5000, timedOut);
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.off('timeout', timedOut);
        resolve(this.adopt(socket, false));
      });
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  close(): Promise<void> {
    for (const c of this.conns.values()) c.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
