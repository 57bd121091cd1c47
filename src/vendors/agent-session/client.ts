/**
 * One agent's connection to the interaction processor: a WebSocket bound to the agent's session
 * (HTTP Basic credentials on the upgrade), requests matched to their responses, events kept as
 * the channel's state. The state is only ever what the platform said: after a dropped connection
 * the client reconnects and the platform replays the session's channels before
 * `session.initialized`, so nothing is assumed across a reconnect.
 */
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { guard } from '../../util/faults.js';
import { isAgentStatus, parseMessage, WireError, type ChannelInfo, type ReasonCode, type WireEvent, type WireMessage } from './wire.js';

export interface ClientOptions {
  url: string;
  user: string;
  password: string;
  /** A request with no response within this bound is an error. */
  timeoutMs: number;
  tlsRejectUnauthorized: boolean;
  logger: Logger;
  /** Reconnect backoff (ms): doubles from min to max. */
  reconnect?: { minMs: number; maxMs: number };
}

/** A request that failed: the platform's failure (`code`, `message`), a timeout or no connection. */
export class AgentSessionError extends Error {
  override readonly name = 'AgentSessionError';
  constructor(
    readonly command: string,
    readonly code: string,
    message: string,
    /** True for timeouts and lost connections; a platform failure is an answer, not retried blindly. */
    readonly transient: boolean,
  ) {
    super(`${command}: ${code}: ${message}`);
  }
}

export interface ClientStats {
  requests: number;
  failures: number;
  timeouts: number;
  reconnects: number;
  /** Messages that could not be used: malformed, unknown, for another session, answering nothing. */
  ignored: number;
}

type Pending = { command: string; target: string; resolve: (d: Record<string, unknown>) => void; reject: (e: AgentSessionError) => void; timer: NodeJS.Timeout };

/** The events of the protocol (the seed and its family); anything else is counted and ignored. */
const KNOWN_EVENTS = new Set([
  'session.initialized',
  'session.externalnotreadyreasons.updated',
  'session.externallogoutreasons.updated',
  'session.incontact.agentleg.failed',
  'session.incontact.addressbook.updated',
  'channel.created',
  'channel.infochanged',
  'channel.initialized',
  'channel.disposed',
  'state.updated',
]);

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  // Nobody may be waiting on a reconnect: its failure must not be an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export class AgentSessionClient {
  sessionId?: string;
  channel?: { id: string; info?: ChannelInfo; initialized: boolean };
  reasonCodes: ReasonCode[] = [];
  readonly stats: ClientStats = { requests: 0, failures: 0, timeouts: 0, reconnects: 0, ignored: 0 };
  private ws?: WebSocket;
  private pending: Pending[] = [];
  private listeners = new Set<(e: WireEvent) => void>();
  private ready?: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void };
  private closed = false;
  private backoff: number;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(private readonly opts: ClientOptions) {
    this.backoff = opts.reconnect?.minMs ?? 200;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.sessionId !== undefined && this.ready === undefined;
  }

  onEvent(fn: (e: WireEvent) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Connect (or wait for the connection in progress) until `session.initialized`. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new AgentSessionError('connect', 'Closed', 'the client is closed', false));
    if (this.connected) return Promise.resolve();
    if (!this.ready) {
      this.ready = deferred();
      this.open();
    }
    // Bounded for the caller; reconnecting goes on in the background.
    const bound = 2 * this.opts.timeoutMs;
    const binding = this.ready.promise;
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new AgentSessionError('connect', 'Timeout', `no session within ${bound} ms`, true)), bound);
      binding.then(
        () => (clearTimeout(t), resolve()),
        (e: Error) => (clearTimeout(t), reject(e)),
      );
    });
  }

  private open(): void {
    const auth = Buffer.from(`${this.opts.user}:${this.opts.password}`).toString('base64');
    const ws = new WebSocket(this.opts.url, { headers: { Authorization: `Basic ${auth}` }, rejectUnauthorized: this.opts.tlsRejectUnauthorized, handshakeTimeout: this.opts.timeoutMs });
    this.ws = ws;
    // A fresh binding: the platform tells us the channel's state again before session.initialized.
    this.sessionId = undefined;
    this.channel = undefined;
    const deadline = setTimeout(() => ws.terminate(), this.opts.timeoutMs * 2);
    ws.on('message', guard('vendor.agent-session.message', (m: Buffer) => this.receive(m.toString('utf8')), { log: this.opts.logger }));
    ws.on('unexpected-response', (_req, res) => {
      this.ready?.reject(new AgentSessionError('connect', String(res.statusCode), `the interaction processor refused the connection (${res.statusCode} ${res.statusMessage ?? ''})`.trim(), res.statusCode !== 401 && res.statusCode !== 403));
      this.ready = undefined;
    });
    ws.on('error', (e) => this.opts.logger.warn({ err: e.message, agent: this.opts.user }, 'agent session connection error'));
    ws.on('close', () => {
      clearTimeout(deadline);
      if (this.ws !== ws) return;
      this.failPending('the connection was lost');
      if (this.closed) return;
      this.stats.reconnects++;
      this.opts.logger.warn({ agent: this.opts.user, retryInMs: this.backoff }, 'agent session connection lost: reconnecting');
      // Requests made meanwhile wait for the new binding (connect() returns this promise).
      this.ready ??= deferred();
      this.reconnectTimer = setTimeout(() => {
        if (!this.closed && this.ws === ws) this.open();
      }, this.backoff);
      this.reconnectTimer.unref();
      this.backoff = Math.min(this.backoff * 2, this.opts.reconnect?.maxMs ?? 10_000);
    });
    ws.on('open', () => clearTimeout(deadline));
  }

  private receive(text: string): void {
    let m: WireMessage;
    try {
      m = parseMessage(text);
    } catch (e) {
      this.stats.ignored++;
      this.opts.logger.warn({ agent: this.opts.user, err: (e as WireError).message }, 'agent session: unusable message ignored');
      return;
    }
    if (m.kind === 'response') return this.onResponse(m);
    const session = m.target.split('.')[0]!;
    if (m.name === 'session.initialized') {
      this.sessionId = session;
    } else if (this.sessionId !== undefined && session !== this.sessionId) {
      this.stats.ignored++;
      this.opts.logger.warn({ agent: this.opts.user, target: m.target, event: m.name }, 'agent session: event for another session ignored');
      return;
    }
    this.apply(m);
    for (const fn of this.listeners) fn(m);
    if (m.name === 'session.initialized') {
      this.backoff = this.opts.reconnect?.minMs ?? 200;
      const r = this.ready;
      this.ready = undefined;
      r?.resolve();
    }
  }

  /** Channel state, only from the platform's events. */
  private apply(e: WireEvent): void {
    if (!KNOWN_EVENTS.has(e.name)) {
      this.stats.ignored++;
      this.opts.logger.warn({ agent: this.opts.user, event: e.name.slice(0, 80) }, 'agent session: unknown event ignored');
      return;
    }
    const channelId = e.target.split('.').slice(1).pop();
    switch (e.name) {
      case 'channel.created':
        this.channel = { id: channelId ?? String((e.data['channel'] as Record<string, unknown> | undefined)?.['id'] ?? ''), initialized: false };
        return;
      case 'channel.initialized':
        if (this.channel) this.channel.initialized = true;
        return;
      case 'channel.infochanged': {
        const st = e.data['state'];
        const as = e.data['agentStatus'] as Record<string, unknown> | undefined;
        if (!this.channel || (st !== 'INACTIVE' && st !== 'UNAVAILABLE' && st !== 'ACTIVE') || !isAgentStatus(as?.['status'])) {
          this.stats.ignored++;
          return;
        }
        this.channel.info = { state: st, agentStatus: { status: as['status'], lastReasonCode: String(as['lastReasonCode'] ?? ''), lastReasonName: String(as['lastReasonName'] ?? '') } };
        return;
      }
      case 'channel.disposed':
        this.channel = undefined;
        return;
      case 'session.externalnotreadyreasons.updated':
        if (Array.isArray(e.data['reasonCodes'])) this.reasonCodes = e.data['reasonCodes'] as ReasonCode[];
        return;
      default:
        return;
    }
  }

  private onResponse(m: Extract<WireMessage, { kind: 'response' }>): void {
    // Responses carry no id: the oldest pending request with the same command and target.
    const i = this.pending.findIndex((p) => p.command === m.command && p.target === m.target);
    if (i < 0) {
      this.stats.ignored++;
      this.opts.logger.warn({ agent: this.opts.user, command: m.command, target: m.target }, 'agent session: response to no pending request ignored');
      return;
    }
    const [p] = this.pending.splice(i, 1);
    clearTimeout(p!.timer);
    if (m.result === 'success') return p!.resolve(m.data);
    this.stats.failures++;
    p!.reject(new AgentSessionError(m.command, m.failure.code, m.failure.message, false));
  }

  /** Send a request to `target` (the session, or `channel` for the telephony channel). */
  async request(command: string, on: 'session' | 'channel', data: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    await this.connect();
    const target = on === 'session' ? this.sessionId! : this.channel ? `${this.sessionId}.${this.channel.id}` : undefined;
    if (!target) throw new AgentSessionError(command, 'NoChannel', 'the session has no telephony channel', false);
    this.stats.requests++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((x) => x !== p);
        this.stats.timeouts++;
        reject(new AgentSessionError(command, 'Timeout', `no response within ${this.opts.timeoutMs} ms`, true));
      }, this.opts.timeoutMs);
      const p: Pending = { command, target, resolve, reject, timer };
      this.pending.push(p);
      this.ws!.send(JSON.stringify({ command, target, data }));
    });
  }

  private failPending(why: string): void {
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new AgentSessionError(p.command, 'ConnectionLost', why, true));
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.failPending('the client closed');
    this.ready?.reject(new AgentSessionError('connect', 'Closed', 'the client closed', false));
    this.ready = undefined;
    this.ws?.close(1000);
  }
}
