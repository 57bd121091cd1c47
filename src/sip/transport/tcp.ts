/**
 * TCP listening point (RFC 3261 §18). Incoming bytes are framed by Content-Length; a connection
 * whose stream cannot be framed (oversized or endless input) is closed, since it cannot resync.
 * Connections are indexed by id and by remote address so responses and in-dialog requests reuse
 * the connection the peer opened (§18.2.2, and what peers behind NAT need).
 */
import net from 'node:net';
import { FramingError, StreamFramer, type FramerLimits } from '../framer.js';
import type { Address } from './types.js';

export interface TcpEvents {
  message(data: Buffer, remote: Address, local: Address, connectionId: number): void;
  framingError(err: FramingError, remote: Address): void;
  error(err: Error): void;
}

interface Conn {
  id: number;
  socket: net.Socket;
  remote: Address;
  key: string;
}

const CRLF = Buffer.from('\r\n');

export class TcpTransport {
  private server: net.Server;
  private conns = new Map<number, Conn>();
  private byRemote = new Map<string, Conn>();
  private nextId = 1;
  local: Address;

  constructor(
    host: string,
    port: number,
    private readonly events: TcpEvents,
    private readonly opts: { framer: FramerLimits; idleTimeoutMs: number; maxConnections: number },
  ) {
    this.local = { address: host, port };
    this.server = net.createServer((s) => this.adopt(s));
    this.server.maxConnections = opts.maxConnections;
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

  private adopt(socket: net.Socket): Conn {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const conn: Conn = { id: this.nextId++, socket, remote, key: `${remote.address}:${remote.port}` };
    this.conns.set(conn.id, conn);
    this.byRemote.set(conn.key, conn);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleTimeoutMs, () => socket.destroy());
    const framer = new StreamFramer(this.opts.framer);
    socket.on('data', (chunk) => {
      let frames;
      try {
        frames = framer.push(chunk);
      } catch (e) {
        if (!(e instanceof FramingError)) throw e;
        this.events.framingError(e, remote);
        socket.destroy();
        return;
      }
      for (const f of frames) {
        // RFC 5626 §3.5.1: answer a CRLFCRLF keep-alive ping with a CRLF pong.
        if (f.kind === 'ping') socket.write(CRLF);
        else this.events.message(f.data, remote, this.local, conn.id);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.conns.delete(conn.id);
      if (this.byRemote.get(conn.key) === conn) this.byRemote.delete(conn.key);
    });
    return conn;
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
      socket.setTimeout(5000, () => socket.destroy(new Error(`TCP connect to ${to.address}:${to.port} timed out`)));
      socket.once('connect', () => {
        socket.off('error', fail);
        resolve(this.adopt(socket));
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
