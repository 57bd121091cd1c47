/**
 * A SIP endpoint: the listening points of one profile, message parsing, the transport rules of
 * RFC 3261 §18 (received/rport, response routing) and the transaction layer (§17 matching). It
 * hands new server transactions and unmatched messages to one transaction user (the UA core).
 */
import type { Logger } from 'pino';
import { realClock, type Clock } from './clock.js';
import { FramingError } from './framer.js';
import { formatVia, parseCSeq, parseVia } from './grammar.js';
import type { SipMessage, SipRequest, SipResponse } from './message.js';
import { canAnswer, DEFAULT_LIMITS, parseMessage, SipParseError, validate, type ParseLimits } from './parser.js';
import { makeResponse, newBranch, newTag } from './response.js';
import { serialize } from './serializer.js';
import { SourcePolicy, type SourcePolicyOptions } from './source-limits.js';
import { SipStats } from './stats.js';
import { NonInviteClientTransaction } from './transaction/client-non-invite.js';
import { InviteClientTransaction } from './transaction/client-invite.js';
import { InviteServerTransaction } from './transaction/server-invite.js';
import { NonInviteServerTransaction } from './transaction/server-non-invite.js';
import { DEFAULT_TIMERS, type TimerConfig } from './transaction/timers.js';
import { TcpTransport } from './transport/tcp.js';
import { isReliable, isWebSocket, type Address, type Destination, type Flow, type TransportName } from './transport/types.js';
import { UdpTransport } from './transport/udp.js';
import type { DatagramFactory, DatagramTransport } from './transport/types.js';
import { WsTransport, type WsOptions } from './transport/ws.js';
import { callIdOf, responseTarget, serverKey } from './transport-rules.js';

export { responseTarget, serverKey };
import { faults } from '../util/faults.js';
import { DEFAULT_TCP_LIMITS, type TcpLimits } from './transport/tcp.js';

/** Methods with a label of their own in vagw_sip_requests_received_total (RFC 3261 and extensions). */
const METRIC_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

export interface EndpointOptions {
  host: string;
  port: number;
  transports: TransportName[];
  /** Address written in Via/Contact (the listen host unless behind NAT). */
  advertisedHost: string;
  clock?: Clock;
  /** The datagram transport for 'udp' (default: a UDP socket; tests pass a MemoryNetwork's factory). */
  datagram?: DatagramFactory;
  timers?: TimerConfig;
  limits?: ParseLimits;
  tcp?: Partial<TcpLimits> & { maxHeaderBytes?: number };
  /**
   * Who may talk to this endpoint over UDP and TCP, and how fast (checked before parsing). SIP
   * over WebSocket is exempt: browsers connect from anywhere and authenticate with digest.
   */
  sources?: SourcePolicyOptions;
  /** SIP over WebSocket (transports 'ws'/'wss'): upgrades arrive through `endpoint.websocket`. */
  websocket?: Partial<Omit<WsOptions, 'maxMessageBytes'>>;
  logger: Logger;
  stats?: SipStats;
}

/** What the endpoint hands to its transaction user. */
export interface TransactionUser {
  /** A new request with its server transaction (never ACK). */
  request(req: SipRequest, tx: ServerTransaction, flow: Flow): void;
  /** An ACK that matched no INVITE server transaction: the ACK for a 2xx (§17.2.3, §13.3.1.4). */
  ack(req: SipRequest, flow: Flow): void;
  /** A 2xx for an INVITE whose client transaction is gone (retransmission; the TU re-ACKs). */
  strayResponse?(res: SipResponse, flow: Flow): void;
}

export interface OutgoingRequestHandlers {
  onResponse(res: SipResponse): void;
  onTimeout(): void;
}

export class SipEndpoint {
  readonly stats: SipStats;
  readonly clock: Clock;
  readonly timers: TimerConfig;
  private udp?: DatagramTransport;
  private tcp?: TcpTransport;
  /** The WebSocket transport (RFC 7118), if enabled: hand it HTTP upgrades for its path. */
  websocket?: WsTransport;
  private flowClosedListeners = new Set<(flow: Flow) => void>();
  private server = new Map<string, ServerTransaction>();
  private client = new Map<string, ClientTransaction>();
  private tu?: TransactionUser;
  private readonly log: Logger;
  private readonly limits: ParseLimits;
  private readonly sources?: SourcePolicy;

  constructor(readonly opts: EndpointOptions) {
    this.clock = opts.clock ?? realClock;
    this.timers = opts.timers ?? DEFAULT_TIMERS;
    this.stats = opts.stats ?? new SipStats();
    this.log = opts.logger;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    if (opts.sources) this.sources = new SourcePolicy(opts.sources, this.clock);
  }

  setTransactionUser(tu: TransactionUser): void {
    this.tu = tu;
  }

  async start(): Promise<void> {
    const onErr = (e: Error): void => this.log.error({ err: e }, 'transport error');
    if (this.opts.transports.includes('udp')) {
      const make: DatagramFactory = this.opts.datagram ?? ((h, p, m, e) => new UdpTransport(h, p, m, e));
      this.udp = make(this.opts.host, this.opts.port, (d, r, l) => this.receiveFrom(d, { transport: 'udp', local: l, remote: r }), onErr);
      await this.udp.listen();
    }
    if (this.opts.transports.includes('tcp')) {
      const t = { ...DEFAULT_TCP_LIMITS, ...this.opts.tcp };
      this.tcp = new TcpTransport(
        this.opts.host,
        this.opts.port,
        {
          message: (d, r, l, id) => this.receiveFrom(d, { transport: 'tcp', local: l, remote: r, connectionId: id }),
          framingError: (e: FramingError, r) => {
            this.stats.framingErrors++;
            this.log.warn({ remote: `${r.address}:${r.port}`, reason: e.message }, 'TCP stream cannot be framed; connection closed');
          },
          // An untrusted peer's connection is closed at once: it never reaches the framer.
          accept: (r) => {
            const v = this.sources?.check(r.address) ?? 'ok';
            if (v === 'untrusted-ignore') this.stats.untrustedDropped++;
            return v !== 'untrusted-ignore';
          },
          refused: (why, r) => {
            this.stats.inc(this.stats.tcpClosed, why);
            this.log.debug({ remote: `${r.address}:${r.port}`, why }, 'TCP connection closed by a limit');
          },
          error: onErr,
        },
        { ...t, framer: { maxHeaderBytes: this.opts.tcp?.maxHeaderBytes ?? 16_384, maxBodyBytes: this.limits.maxMessageBytes } },
      );
      await this.tcp.listen();
    }
    // 'wss' when TLS is terminated in front of the gateway: flows and Via then say WSS.
    const wsName = this.opts.transports.includes('wss') ? 'wss' : this.opts.transports.includes('ws') ? 'ws' : undefined;
    if (wsName) {
      this.websocket = new WsTransport(
        {
          message: (d, r, l, id) => this.receive(d, { transport: wsName, local: l, remote: r, connectionId: id }),
          closed: (id, r) => {
            const flow: Flow = { transport: wsName, local: this.websocket?.local ?? { address: this.opts.host, port: 0 }, remote: r, connectionId: id };
            for (const fn of [...this.flowClosedListeners]) fn(flow);
          },
          refused: (reason, r) => this.log.info({ remote: `${r.address}:${r.port}`, reason }, 'SIP WebSocket upgrade refused'),
        },
        { ...this.opts.websocket, maxMessageBytes: this.limits.maxMessageBytes },
      );
    }
  }

  /**
   * Called when a connection-oriented flow ends (today: a SIP WebSocket connection closed). A
   * registrar drops the bindings that lived on it. Returns the disposer.
   */
  onFlowClosed(fn: (flow: Flow) => void): () => void {
    this.flowClosedListeners.add(fn);
    return () => void this.flowClosedListeners.delete(fn);
  }

  /** The bound port (useful when configured as 0). */
  get port(): number {
    return this.udp?.local.port ?? this.tcp?.local.port ?? this.opts.port;
  }

  async stop(): Promise<void> {
    for (const tx of [...this.server.values(), ...this.client.values()]) tx.terminate();
    await Promise.all([this.udp?.close(), this.tcp?.close(), this.websocket?.close()]);
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Every message from a socket enters here: the source checks (before any parsing), then the
   * message, inside the fault boundary: a bug reached by one message is logged with its Call-ID,
   * counted, and answered 500 where a server transaction exists, and the endpoint keeps serving.
   */
  private receiveFrom(data: Buffer, flow: Flow): void {
    if (this.sources && !isWebSocket(flow.transport)) {
      const v = this.sources.check(flow.remote.address);
      if (v === 'untrusted-ignore') {
        this.stats.untrustedDropped++;
        return;
      }
      if (v === 'rate-limited') {
        this.stats.rateLimited++;
        return;
      }
      if (v === 'untrusted-reject') return this.guarded(data, flow, () => this.forbid(data, flow));
    }
    this.guarded(data, flow, () => this.receive(data, flow));
  }

  private guarded(data: Buffer, flow: Flow, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      faults.record('sip.receive', e, { callId: callIdOf(data), remote: `${flow.remote.address}:${flow.remote.port}`, transport: flow.transport }, this.log);
    }
  }

  private receive(data: Buffer, flow: Flow): void {
    let msg: SipMessage;
    try {
      // Only TCP needs Content-Length to frame; a WebSocket message is one SIP message (RFC 7118 §5.1).
      msg = validate(parseMessage(data, this.limits), flow.transport === 'tcp');
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      this.rejectUnparsable(e, flow);
      return;
    }
    if (msg.type === 'request') this.receiveRequest(msg, flow);
    else this.receiveResponse(msg, flow);
  }

  /** An untrusted source on a profile set to answer them (debugging): 403, statelessly. */
  private forbid(data: Buffer, flow: Flow): void {
    this.stats.untrustedRejected++;
    let req: SipMessage | undefined;
    try {
      req = parseMessage(data, this.limits);
    } catch (e) {
      req = e instanceof SipParseError ? e.partial : undefined;
    }
    if (!canAnswer(req)) return;
    this.answerStateless(req, 403, this.sources!.rejectReason(flow.remote.address), flow);
  }

  /** A message that failed parsing: answer it if it can be addressed (§8.2.6), else drop and count. */
  private rejectUnparsable(e: SipParseError, flow: Flow): void {
    this.stats.parseErrors++;
    const p = e.partial;
    this.log.warn({ remote: `${flow.remote.address}:${flow.remote.port}`, reason: e.reason, callId: p?.headers.get('Call-ID') }, 'unparsable SIP message');
    if (!canAnswer(p)) return;
    this.answerStateless(p, e.status, e.reason, flow);
  }

  /**
   * Answer outside any transaction. The response goes where §18.2.2 says when the top Via can be
   * read; when it cannot (it is what was wrong, or another SIP version wrote it), back to the
   * address and connection the request came from, the only address known to be real.
   */
  private answerStateless(req: SipRequest, status: number, reason: string, flow: Flow): void {
    try {
      this.stampVia(req, flow);
    } catch {
      // Unreadable Via: sendResponse falls back to the source address.
    }
    this.sendResponse(makeResponse(req, status, reason), flow);
  }

  /** §18.2.1 and RFC 3581 §4: record where the request really came from in the top Via. */
  private stampVia(req: SipRequest, flow: Flow): void {
    const top = req.headers.getAll('Via')[0];
    if (!top) return;
    const via = parseVia(top);
    let changed = false;
    if (via.host !== flow.remote.address || 'rport' in via.params) {
      via.params['received'] = flow.remote.address;
      changed = true;
    }
    if ('rport' in via.params) {
      via.params['rport'] = String(flow.remote.port);
      changed = true;
    }
    if (changed) req.headers.replaceFirst('Via', formatVia(via));
  }

  private receiveRequest(req: SipRequest, flow: Flow): void {
    // Any token is a method on the wire: one label per method would let a peer grow this map (and
    // /metrics) without bound, so methods we do not know are counted together.
    this.stats.inc(this.stats.requestsIn, METRIC_METHODS.has(req.method) ? req.method : 'other');
    this.stampVia(req, flow);
    const key = serverKey(req, req.method === 'ACK' ? 'INVITE' : req.method);
    const tx = this.server.get(key);
    if (req.method === 'ACK') {
      if (tx instanceof InviteServerTransaction && tx.state !== 'accepted') tx.receive(req);
      else this.tu?.ack(req, flow);
      return;
    }
    if (tx) {
      this.stats.retransmissionsAbsorbed++;
      tx.receive(req);
      return;
    }
    const created = this.createServerTransaction(req, flow, key);
    try {
      this.tu?.request(req, created, flow);
    } catch (e) {
      // A bug in the TU: this request still gets a final answer (§21.5.1), the rest carries on.
      faults.record('sip.request', e, { callId: req.headers.get('Call-ID'), method: req.method }, this.log);
      if (created.state === 'proceeding' || created.state === 'trying') created.respond(makeResponse(req, 500, 'Internal error while handling the request', newTag()));
    }
  }

  /** Find the INVITE server transaction a CANCEL refers to (§9.2: same branch, method INVITE). */
  findInviteFor(cancel: SipRequest): InviteServerTransaction | undefined {
    const tx = this.server.get(serverKey(cancel, 'INVITE'));
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  private createServerTransaction(req: SipRequest, flow: Flow, key: string): ServerTransaction {
    const reliable = isReliable(flow.transport);
    const deps = {
      clock: this.clock,
      timers: this.timers,
      reliable,
      send: (res: SipResponse) => this.sendResponse(res, flow),
      onTimeout: () => {
        this.stats.transactionTimeouts++;
      },
      onTerminated: () => {
        this.server.delete(key);
        this.stats.transactionsActive--;
      },
    };
    const tx = req.method === 'INVITE' ? new InviteServerTransaction(req, deps) : new NonInviteServerTransaction(req, deps);
    this.server.set(key, tx);
    this.stats.transactionsCreated++;
    this.stats.transactionsActive++;
    return tx;
  }

  private receiveResponse(res: SipResponse, flow: Flow): void {
    this.stats.inc(this.stats.responsesIn, res.status);
    const top = parseVia(res.headers.getAll('Via')[0]!);
    const branch = top.params['branch'] ?? '';
    const method = parseCSeq(res.headers.get('CSeq')!).method;
    const tx = this.client.get(`${branch}|${method}`);
    if (tx) tx.receive(res);
    else if (method === 'INVITE' && res.status >= 200 && res.status < 300) this.tu?.strayResponse?.(res, flow);
  }

  // ---------------------------------------------------------------- sending

  /** Send a response along the path §18.2.2 prescribes. */
  sendResponse(res: SipResponse, flow: Flow): void {
    this.stats.inc(this.stats.responsesOut, res.status);
    const data = serialize(res);
    const warn = (e: Error): void => this.log.warn({ err: e.message, callId: res.headers.get('Call-ID'), transport: flow.transport }, 'response not delivered');
    if (isWebSocket(flow.transport)) {
      // RFC 7118 §5.2.3 / RFC 3261 §18.2.2: the connection the request came on; if it is gone
      // the response is lost (no connection can be opened towards a WebSocket client).
      this.websocket?.send(data, flow.remote, flow.connectionId).catch(warn);
      return;
    }
    let to: Address = flow.remote;
    try {
      if (flow.transport === 'tcp') {
        const via = parseVia(res.headers.getAll('Via')[0] ?? '');
        // Same connection while open; otherwise a new connection to the source address and the
        // sent-by port (§18.2.2).
        to = { address: via.params['received'] ?? flow.remote.address, port: via.port ?? 5060 };
      } else to = responseTarget(res, flow);
    } catch {
      // The Via cannot be used (a 400 or 505 about that very Via): the source address is the only
      // one known to be real, and the same connection for TCP.
    }
    if (flow.transport === 'tcp') this.tcp?.send(data, to, flow.connectionId).catch(warn);
    else this.udp?.send(data, to).catch(warn);
  }

  /**
   * Send a request through a new client transaction. The endpoint writes the top Via (with a new
   * branch and rport, RFC 3581) for the transport actually used.
   */
  request(req: SipRequest, dest: Destination, handlers: OutgoingRequestHandlers): ClientTransaction {
    const branch = newBranch();
    const host = this.opts.advertisedHost.includes(':') ? `[${this.opts.advertisedHost}]` : this.opts.advertisedHost;
    req.headers.prepend('Via', `SIP/2.0/${dest.transport.toUpperCase()} ${host}:${this.sentByPort(dest)};branch=${branch};rport`);
    if (!req.headers.has('Max-Forwards')) req.headers.add('Max-Forwards', '70');
    const key = `${branch}|${req.method}`;
    const deps = {
      clock: this.clock,
      timers: this.timers,
      reliable: isReliable(dest.transport),
      send: (r: SipRequest) => this.sendRaw(r, dest, () => tx.transportError()),
      onResponse: (r: SipResponse) => handlers.onResponse(r),
      onTimeout: () => {
        this.stats.transactionTimeouts++;
        handlers.onTimeout();
      },
      onTerminated: () => {
        this.client.delete(key);
        this.stats.transactionsActive--;
      },
    };
    const tx: ClientTransaction = req.method === 'INVITE' ? new InviteClientTransaction(req, deps) : new NonInviteClientTransaction(req, deps);
    this.client.set(key, tx);
    this.stats.transactionsCreated++;
    this.stats.transactionsActive++;
    tx.start();
    return tx;
  }

  /** Send without a transaction: the ACK for a 2xx is the TU's, not a transaction's (§13.2.2.4). */
  sendStateless(req: SipRequest, dest: Destination): void {
    this.sendRaw(req, dest, () => undefined);
  }

  /** Port for our Via sent-by: over WebSocket, the HTTP port the client connected to. */
  sentByPort(dest: Destination): number {
    if (isWebSocket(dest.transport)) return this.websocket?.localOf(dest.connectionId)?.port ?? this.port;
    return this.port;
  }

  private sendRaw(req: SipRequest, dest: Destination, onError: () => void): void {
    const data = serialize(req);
    const fail = (e: Error): void => {
      this.log.warn({ err: e.message, to: `${dest.address}:${dest.port}`, method: req.method, callId: req.headers.get('Call-ID') }, 'request not delivered');
      onError();
    };
    if (isWebSocket(dest.transport)) {
      if (!this.websocket) return fail(new Error('WebSocket is not enabled on this profile'));
      // Deferred like the other transports' failures, so the transaction exists when it hears of it.
      this.websocket.send(data, dest, dest.connectionId).catch(fail);
    } else if (dest.transport === 'tcp') {
      if (!this.tcp) return fail(new Error('TCP is not enabled on this profile'));
      this.tcp.send(data, dest, dest.connectionId).catch(fail);
    } else {
      if (!this.udp) return fail(new Error('UDP is not enabled on this profile'));
      this.udp.send(data, dest).catch(fail);
    }
  }

  hasTransport(t: TransportName): boolean {
    if (isWebSocket(t)) return !!this.websocket;
    return t === 'udp' ? !!this.udp : !!this.tcp;
  }

  get activeTransactions(): number {
    return this.server.size + this.client.size;
  }
}
