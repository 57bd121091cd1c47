/**
 * SIP over WebSocket, server side (RFC 7118). The transport owns no HTTP server: the gateway's HTTP
 * server hands it the upgrade requests for its path (`handleUpgrade`, or `attach`). Each WebSocket
 * connection is one flow with a connection id. The gateway cannot open a WebSocket towards a
 * client, so sending to a closed or unknown connection fails (the transaction gets a transport
 * error) instead of connecting somewhere, unlike TCP (RFC 7118 §5.2.2/§5.2.3).
 */
import { isUtf8 } from 'node:buffer';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Address } from './types.js';
import { guard } from '../../util/faults.js';

/** RFC 7118 §4.1: the registered WebSocket subprotocol name. */
export const SIP_SUBPROTOCOL = 'sip';

export interface WsEvents {
  message(data: Buffer, remote: Address, local: Address, connectionId: number): void;
  /** The connection is gone (either side closed it, or it stopped answering pings). */
  closed(connectionId: number, remote: Address): void;
  /** An upgrade or a connection was refused; `reason` says why (for logs). */
  refused?(reason: string, remote: Address): void;
}

export interface WsOptions {
  /** Upgrade path, e.g. `/sip`. */
  path: string;
  /** Largest SIP message (the parser's limit); frames up to twice this get a 513, larger close the connection. */
  maxMessageBytes: number;
  maxConnections: number;
  /** WebSocket ping interval; a connection that missed the previous pong is closed (RFC 7118 §6). */
  pingIntervalMs: number;
}

export const DEFAULT_WS_OPTIONS: WsOptions = { path: '/sip', maxMessageBytes: 65_535, maxConnections: 10_000, pingIntervalMs: 30_000 };

interface Conn {
  id: number;
  ws: WebSocket;
  remote: Address;
  local: Address;
  alive: boolean;
}

const CRLF = '\r\n';

export class WsTransport {
  private readonly wss: WebSocketServer;
  private readonly conns = new Map<number, Conn>();
  private readonly byRemote = new Map<string, Conn>();
  private nextId = 1;
  private pinger: NodeJS.Timeout;
  readonly opts: WsOptions;
  /** Local address of the last accepted connection (the HTTP server's), for Via/Contact. */
  local?: Address;

  constructor(
    private readonly events: WsEvents,
    opts: Partial<WsOptions> = {},
  ) {
    this.opts = { ...DEFAULT_WS_OPTIONS, ...opts };
    // Frames a bit over the SIP limit still reach the parser so the sender gets a 513 (RFC 3261
    // §21.5.14); only beyond that does ws close with 1009 (Message Too Big).
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.opts.maxMessageBytes * 2,
      clientTracking: false,
      perMessageDeflate: false,
      // Select the offered spelling of `sip` (handleUpgrade refused offers without it).
      handleProtocols: (offered) => [...offered].find((p) => p.toLowerCase() === SIP_SUBPROTOCOL) ?? false,
    });
    this.pinger = setInterval(guard('sip.ws.ping', () => this.ping()), this.opts.pingIntervalMs);
    this.pinger.unref();
  }

  /** Listen for upgrades on `server` at our path; returns the detacher. Other paths are left alone. */
  attach(server: http.Server): () => void {
    const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (pathOf(req) === this.opts.path) this.handleUpgrade(req, socket, head);
    };
    server.on('upgrade', onUpgrade);
    return () => void server.off('upgrade', onUpgrade);
  }

  /**
   * Take an HTTP upgrade request. RFC 7118 §4.1: the client must offer the `sip` subprotocol and
   * the server must select it; anything else is refused with an HTTP error before the handshake.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const remote = { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
    const local = { address: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 };
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    // Subprotocol names compare case-insensitively here: some SBCs send "SIP".
    const chosen = offered.find((p) => p.toLowerCase() === SIP_SUBPROTOCOL);
    if (pathOf(req) !== this.opts.path) return this.refuse(socket, 404, `no WebSocket endpoint at ${pathOf(req)}`, remote);
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return this.refuse(socket, 400, 'Upgrade: websocket required', remote);
    if (!chosen) {
      const got = offered.length ? offered.join(', ') : 'none';
      return this.refuse(socket, 400, `WebSocket subprotocol 'sip' required (RFC 7118 §4.1), offered: ${got}`, remote);
    }
    if (this.conns.size >= this.opts.maxConnections) return this.refuse(socket, 503, `at the limit of ${this.opts.maxConnections} SIP WebSocket connections`, remote);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws, remote, local));
  }

  private refuse(socket: Duplex, status: number, reason: string, remote: Address): void {
    this.events.refused?.(reason, remote);
    refuseUpgrade(socket, status, reason);
  }

  private adopt(ws: WebSocket, remote: Address, local: Address): void {
    const conn: Conn = { id: this.nextId++, ws, remote, local, alive: true };
    const key = `${remote.address}:${remote.port}`;
    this.conns.set(conn.id, conn);
    this.byRemote.set(key, conn);
    this.local = local;
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', guard('sip.ws.message', (data: Buffer) => {
      conn.alive = true;
      // RFC 5626 §3.5.1 keep-alive carried in a WebSocket message (SIP.js keepAliveInterval): a
      // double CRLF ping gets a single CRLF pong; a lone CRLF (a pong) is ignored.
      if (isKeepAlive(data)) {
        if (data.length >= 4) ws.send(CRLF);
        return;
      }
      // RFC 7118 §4.2: text and binary frames both carry SIP (ws has checked a text frame is
      // UTF-8); one SIP message per WebSocket message, so no Content-Length framing.
      this.events.message(data, remote, local, conn.id);
    }, { context: () => ({ remote: key }) }));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.conns.delete(conn.id);
      if (this.byRemote.get(key) === conn) this.byRemote.delete(key);
      this.events.closed(conn.id, remote);
    });
  }

  /** RFC 7118 §6: WebSocket ping frames keep NAT bindings open and find dead connections. */
  private ping(): void {
    for (const c of this.conns.values()) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  isOpen(connectionId: number): boolean {
    return this.conns.get(connectionId)?.ws.readyState === WebSocket.OPEN;
  }

  /** Local address (the HTTP listener's) of a connection, for the Via sent-by of our requests. */
  localOf(connectionId: number | undefined): Address | undefined {
    return (connectionId !== undefined ? this.conns.get(connectionId)?.local : undefined) ?? this.local;
  }

  /**
   * Send one SIP message as one WebSocket message on the given connection (else on the connection
   * from `to`, if there is one). RFC 7118 §4.2: a text frame when the message is valid UTF-8,
   * binary otherwise. Rejects when there is no open connection: we cannot open one.
   */
  send(data: Buffer, to: Address, connectionId?: number): Promise<number> {
    let conn = connectionId !== undefined ? this.conns.get(connectionId) : undefined;
    if (!conn && connectionId === undefined) conn = this.byRemote.get(`${to.address}:${to.port}`);
    if (!conn || conn.ws.readyState !== WebSocket.OPEN) {
      const which = connectionId !== undefined ? `connection ${connectionId}` : `${to.address}:${to.port}`;
      return Promise.reject(new Error(`no open SIP WebSocket connection for ${which} (a WebSocket client must connect to us)`));
    }
    const c = conn;
    return new Promise((resolve, reject) => {
      c.ws.send(data, { binary: !isUtf8(data) }, (err) => (err ? reject(err) : resolve(c.id)));
    });
  }

  /** Close one connection (e.g. a registrar evicting a flow). */
  disconnect(connectionId: number, code = 1000, reason = ''): void {
    this.conns.get(connectionId)?.ws.close(code, reason);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  close(): Promise<void> {
    clearInterval(this.pinger);
    // 1001 Going Away (RFC 6455 §7.4.1): the server is shutting down.
    for (const c of this.conns.values()) c.ws.close(1001, 'gateway stopping');
    const pending = [...this.conns.values()];
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        for (const c of pending) c.ws.terminate();
        resolve();
      }, 500);
      t.unref();
      if (pending.length === 0) {
        clearTimeout(t);
        resolve();
        return;
      }
      let left = pending.length;
      for (const c of pending) {
        c.ws.once('close', () => {
          if (--left === 0) {
            clearTimeout(t);
            resolve();
          }
        });
      }
    });
  }
}

function pathOf(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

function isKeepAlive(data: Buffer): boolean {
  if (data.length === 0 || data.length > 4) return false;
  for (const b of data) if (b !== 13 && b !== 10) return false;
  return true;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** Refuse a WebSocket upgrade with a plain HTTP answer whose body says why, then drop the socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
