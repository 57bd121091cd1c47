/**
 * Registrar for virtual agents (RFC 3261 §10.3): a SIP endpoint (typically SIP.js in a browser,
 * over WebSocket) registers as the endpoint of one agent and then receives that agent's calls.
 *
 * - AOR: the To URI's user part is the agent's number (normalised like the router does) or id.
 * - Authentication: digest (RFC 7616, MD5 or SHA-256, qop=auth) against the agent's `sipPassword`,
 *   or, when the profile's platform issues softphone tokens, `Authorization: Bearer <token>` (RFC
 *   8898 §3) naming the agent's logon name; an agent with neither does not accept registrations (403).
 * - A binding keeps the flow its REGISTER came on: a WebSocket client's Contact host is
 *   `xxx.invalid` (RFC 7118 §5), so requests to the agent go over that connection, and the binding
 *   goes when the connection closes.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AgentConfig, SipProfile } from '../config/types.js';
import { normalizeNumber } from '../config/numbers.js';
import type { Clock, TimerHandle } from '../sip/clock.js';
import { DigestError, formatChallenge, makeNonce, parseAuthorization, verifyDigest, type DigestAlgorithm, type DigestCredentials } from '../sip/digest.js';
import type { ServerTransaction, SipEndpoint } from '../sip/endpoint.js';
import { parseNameAddr, parseUri, unescapeUri } from '../sip/grammar.js';
import type { SipRequest } from '../sip/message.js';
import { makeResponse, newTag } from '../sip/response.js';
import { flowDestination, type Destination, type Flow } from '../sip/transport/types.js';
import type { RegisterHandler, UserAgent } from '../sip/ua.js';

export interface Binding {
  agentId: string;
  /** The Contact URI as registered (the Request-URI for requests to the agent). */
  contact: string;
  /** The flow the REGISTER came on; requests to the agent go back along it. */
  flow: Flow;
  /** Where to send requests to the agent: the flow's connection (RFC 5626 §5.3 flow reuse). */
  destination: Destination;
  /** Clock milliseconds (the registrar's clock) when the binding lapses. */
  expiresAt: number;
  /** When it was last (re)registered, clock milliseconds; lookup() prefers the most recent. */
  updatedAt: number;
  callId: string;
  cseq: number;
  /** RFC 5626 §4.1 +sip.instance, when the client sent one. */
  instance?: string;
}

export interface RegistrarOptions {
  profile: Pick<SipProfile, 'name' | 'agents' | 'numberNormalization'>;
  clock: Clock;
  logger: Logger;
  /** Digest realm (default: the profile name). */
  realm?: string;
  /** RFC 3261 §10.3 step 7: shorter non-zero expiries get 423 with Min-Expires. */
  minExpires?: number;
  /** Longer expiries are shortened to this. */
  maxExpires?: number;
  /** Expires when the client gives none (RFC 3261 §10.2.1.1 leaves it to the registrar). */
  defaultExpires?: number;
  nonceTtlMs?: number;
  /**
   * Challenges in order of preference (RFC 8760 §2.4: one WWW-Authenticate per algorithm, most
   * preferred first). Default SHA-256 then MD5: SIP.js 0.21 implements only MD5 and keeps only the
   * last WWW-Authenticate header it parses, so MD5 must come last for it.
   */
  algorithms?: DigestAlgorithm[];
  /** Wrong passwords from one agent within `failureWindowMs` before further attempts get 403. */
  maxFailures?: number;
  failureWindowMs?: number;
  /**
   * Bearer tokens (RFC 8898): the logon name a token was issued for, or a rejection with the
   * reason. Absent: only digest.
   */
  bearer?: (token: string) => Promise<string>;
}

type Listener = (agentId: string, registered: boolean) => void;

export class Registrar implements RegisterHandler {
  private readonly byAgent = new Map<string, Map<string, Binding>>();
  private readonly timers = new Map<Binding, TimerHandle>();
  private readonly listeners = new Set<Listener>();
  private readonly agentsByKey = new Map<string, AgentConfig>();
  private readonly agentsById = new Map<string, AgentConfig>();
  private readonly secret = randomBytes(32);
  /** Highest nc seen per nonce, to refuse replayed credentials (RFC 7616 §3.3, §5.11). */
  private readonly ncSeen = new Map<string, { nc: number; issuedAt: number }>();
  private readonly failures = new Map<string, { count: number; since: number }>();
  readonly realm: string;
  readonly stats = { registered: 0, unregistered: 0, challenged: 0, failed: 0, refused: 0 };
  private readonly o: Required<Omit<RegistrarOptions, 'realm' | 'profile' | 'clock' | 'logger' | 'bearer'>>;

  constructor(private readonly opts: RegistrarOptions) {
    this.realm = opts.realm ?? opts.profile.name;
    this.o = {
      minExpires: opts.minExpires ?? 60,
      maxExpires: opts.maxExpires ?? 3600,
      defaultExpires: opts.defaultExpires ?? 600,
      nonceTtlMs: opts.nonceTtlMs ?? 300_000,
      algorithms: opts.algorithms ?? ['SHA-256', 'MD5'],
      maxFailures: opts.maxFailures ?? 5,
      failureWindowMs: opts.failureWindowMs ?? 300_000,
    };
    for (const a of opts.profile.agents) {
      this.agentsByKey.set(a.key, a);
      this.agentsById.set(a.id, a);
    }
  }

  // ---------------------------------------------------------------- queries

  /** The most recently (re)registered live binding of an agent. */
  lookup(agentId: string): Binding | undefined {
    let best: Binding | undefined;
    for (const b of this.byAgent.get(agentId)?.values() ?? []) if (!best || b.updatedAt >= best.updatedAt) best = b;
    return best;
  }

  bindings(agentId: string): Binding[] {
    return [...(this.byAgent.get(agentId)?.values() ?? [])];
  }

  /** Called when an agent goes from no binding to one (true) or back (false). Returns the disposer. */
  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** A connection closed: its bindings go with it (RFC 5626 §4.4.1 spirit; RFC 7118 §5). */
  flowClosed(flow: Flow): void {
    if (flow.connectionId === undefined) return;
    for (const [agentId, set] of this.byAgent) {
      for (const b of [...set.values()]) {
        if (b.flow.transport === flow.transport && b.flow.connectionId === flow.connectionId) this.remove(agentId, b, 'connection closed');
      }
    }
  }

  close(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.byAgent.clear();
  }

  // ---------------------------------------------------------------- REGISTER

  register(req: SipRequest, tx: ServerTransaction, flow: Flow): void {
    const callId = req.headers.get('Call-ID') ?? '';
    const log = this.opts.logger.child({ callId, profile: this.opts.profile.name, remote: `${flow.remote.address}:${flow.remote.port}` });
    const reply = (status: number, reason?: string, extra?: Record<string, string | string[]>): void => {
      if (status >= 300) {
        if (status === 401) this.stats.challenged++;
        else this.stats.refused++;
        log.info({ status, reason }, 'REGISTER refused');
      }
      tx.respond(makeResponse(req, status, reason, newTag(), extra));
    };
    // RFC 3261 §10.3 step 5: the To header is the address of record.
    let user: string;
    try {
      user = unescapeUri(parseUri(parseNameAddr(req.headers.get('To')!).uri).user ?? '');
    } catch {
      return reply(400, 'Invalid To URI');
    }
    const agent = this.agentFor(user);
    if (!agent) return reply(404, `No virtual agent at ${user.slice(0, 32) || '(no user part)'} on profile ${this.opts.profile.name}`);
    const token = this.opts.bearer ? bearerOf(req) : undefined;
    if (token !== undefined) return void this.withBearer(token, agent, log, reply, () => this.update(req, agent, flow, log, reply));
    if (!agent.sipPassword) {
      if (this.opts.bearer) return reply(401, 'Unauthorized: a softphone token (Authorization: Bearer) is required', { 'WWW-Authenticate': [this.bearerChallenge()] });
      return reply(403, `Virtual agent ${agent.id} does not accept registrations`);
    }
    const auth = this.authenticate(req, agent, log);
    if (auth) return reply(auth.status, auth.reason, auth.headers);
    this.failures.delete(agent.id);
    this.update(req, agent, flow, log, reply);
  }

  private agentFor(user: string): AgentConfig | undefined {
    if (!user) return undefined;
    const byId = this.agentsById.get(user);
    if (byId) return byId;
    const key = normalizeNumber(user, this.opts.profile.numberNormalization);
    return key === null ? undefined : this.agentsByKey.get(key);
  }

  private challenges(stale: boolean): string[] {
    const nonce = makeNonce(this.secret, this.realm, this.opts.clock.now());
    const digest = this.o.algorithms.map((algorithm) => formatChallenge({ realm: this.realm, nonce, algorithm, stale }));
    // Bearer first: SIP.js keeps only the last challenge it parses, which must stay MD5.
    return this.opts.bearer ? [this.bearerChallenge(), ...digest] : digest;
  }

  /** RFC 8898 §3.2 (with RFC 6750 §3's error attribute when a token was refused). */
  private bearerChallenge(error?: 'invalid_token'): string {
    return `Bearer realm="${this.realm}"${error ? `, error="${error}"` : ''}`;
  }

  /** A REGISTER with a bearer token: bound if the token is valid and names this agent. */
  private withBearer(token: string, agent: AgentConfig, log: Logger, reply: (s: number, r?: string, e?: Record<string, string | string[]>) => void, bind: () => void): Promise<void> {
    return this.opts.bearer!(token).then(
      (name) => {
        if (name !== agent.vendorUser && name !== agent.id) {
          this.stats.failed++;
          log.warn({ agent: agent.id, tokenFor: name }, 'REGISTER with a token for another agent');
          return reply(403, `The token is for ${name.slice(0, 64)}, not virtual agent ${agent.id}`);
        }
        bind();
      },
      (e: Error) => {
        this.stats.failed++;
        log.warn({ agent: agent.id, err: e.message }, 'REGISTER with a token that is not valid');
        reply(401, `Invalid token: ${e.message.slice(0, 80)}`, { 'WWW-Authenticate': [this.bearerChallenge('invalid_token')] });
      },
    );
  }

  /** Undefined when the request carries valid credentials for `agent`; else the answer to give. */
  private authenticate(req: SipRequest, agent: AgentConfig, log: Logger): { status: number; reason: string; headers?: Record<string, string[]> } | undefined {
    const challenge = (reason: string, stale = false) => ({ status: 401, reason, headers: { 'WWW-Authenticate': this.challenges(stale) } });
    let creds: DigestCredentials | undefined;
    try {
      // RFC 3261 §22.4: credentials for other realms may be present; ours is the one to check.
      for (const line of req.headers.getAll('Authorization')) {
        const c = parseAuthorization(line);
        if (c && c.realm === this.realm) creds = c;
      }
    } catch (e) {
      if (e instanceof DigestError) return { status: 400, reason: e.message };
      throw e;
    }
    if (!creds) return challenge('Unauthorized');
    const now = this.opts.clock.now();
    const f = this.failures.get(agent.id);
    if (f && now - f.since > this.o.failureWindowMs) this.failures.delete(agent.id);
    if ((this.failures.get(agent.id)?.count ?? 0) >= this.o.maxFailures) {
      return { status: 403, reason: `Too many failed registrations for virtual agent ${agent.id}; try again later` };
    }
    if (creds.username !== agent.id && normalizeNumber(creds.username, this.opts.profile.numberNormalization) !== agent.key) {
      return { status: 403, reason: `Digest username ${creds.username.slice(0, 32)} is not virtual agent ${agent.id}` };
    }
    const v = verifyDigest(creds, {
      method: req.method, requestUri: req.uri, realm: this.realm, password: agent.sipPassword!, secret: this.secret, nowMs: now, nonceTtlMs: this.o.nonceTtlMs,
    });
    if (!v.ok) {
      switch (v.why) {
        case 'uri':
        case 'qop':
          return { status: 400, reason: v.reason };
        case 'stale':
          return challenge(v.reason, true);
        case 'response': {
          const cur = this.failures.get(agent.id) ?? { count: 0, since: now };
          cur.count++;
          this.failures.set(agent.id, cur);
          this.stats.failed++;
          log.warn({ agent: agent.id, failures: cur.count }, 'REGISTER with wrong digest credentials');
          return challenge(`Wrong credentials for virtual agent ${agent.id}`);
        }
        default:
          return challenge(v.reason);
      }
    }
    // The same nonce may be reused with a growing nc; an nc not above the last one is a replay.
    const seen = this.ncSeen.get(creds.nonce);
    if (seen && v.nc <= seen.nc) return challenge('Digest nc reused', true);
    this.ncSeen.set(creds.nonce, { nc: v.nc, issuedAt: seen?.issuedAt ?? now });
    for (const [n, s] of this.ncSeen) if (now - s.issuedAt > this.o.nonceTtlMs * 2) this.ncSeen.delete(n);
    return undefined;
  }

  /** RFC 3261 §10.3 steps 6-8 for an authenticated REGISTER. */
  private update(req: SipRequest, agent: AgentConfig, flow: Flow, log: Logger, reply: (s: number, r?: string, e?: Record<string, string | string[]>) => void): void {
    const expiresHeader = req.headers.get('Expires');
    if (expiresHeader !== undefined && !/^\d{1,10}$/.test(expiresHeader.trim())) return reply(400, `Invalid Expires '${expiresHeader.slice(0, 20)}'`);
    const contacts = req.headers.getAll('Contact');
    const callId = req.headers.get('Call-ID')!;
    const cseq = Number(/^\s*(\d+)/.exec(req.headers.get('CSeq')!)![1]);
    const set = this.byAgent.get(agent.id) ?? new Map<string, Binding>();
    if (contacts.length === 1 && contacts[0]!.trim() === '*') {
      // Step 6: `Contact: *` only with Expires: 0, and it removes every binding of the AOR.
      if (expiresHeader === undefined || Number(expiresHeader) !== 0) return reply(400, "Contact '*' requires Expires: 0");
      for (const b of [...set.values()]) if (b.callId !== callId || cseq > b.cseq) this.remove(agent.id, b, 'unregistered (*)');
      return this.ok(agent, reply);
    }
    const now = this.opts.clock.now();
    const changes: { key: string; contact: string; expires: number; instance?: string }[] = [];
    for (const c of contacts) {
      let na;
      try {
        na = parseNameAddr(c);
        parseUri(na.uri);
      } catch {
        return reply(400, `Invalid Contact '${c.slice(0, 40)}'`);
      }
      const p = na.params['expires'];
      if (p !== undefined && (p === null || !/^\d{1,10}$/.test(p))) return reply(400, `Invalid Contact expires '${String(p).slice(0, 20)}'`);
      let expires = p != null ? Number(p) : expiresHeader !== undefined ? Number(expiresHeader) : this.o.defaultExpires;
      // Step 7: too brief is refused with the minimum we accept; too long is shortened.
      if (expires > 0 && expires < this.o.minExpires) return reply(423, 'Interval Too Brief', { 'Min-Expires': String(this.o.minExpires) });
      expires = Math.min(expires, this.o.maxExpires);
      const instance = na.params['+sip.instance'] ?? undefined;
      // RFC 5626 §6: with +sip.instance the binding is the instance (and reg-id); else the URI.
      const key = instance ? `${instance}|${na.params['reg-id'] ?? ''}` : na.uri;
      changes.push({ key, contact: na.uri, expires, ...(instance ? { instance } : {}) });
    }
    for (const ch of changes) {
      const old = set.get(ch.key);
      // Step 7: an older or repeated CSeq within the same Call-ID is out of order.
      if (old && old.callId === callId && cseq <= old.cseq) return reply(500, 'Out-of-order REGISTER (CSeq not above the binding)', { 'Retry-After': '1' });
    }
    for (const ch of changes) {
      const old = set.get(ch.key);
      if (ch.expires === 0) {
        if (old) this.remove(agent.id, old, 'unregistered');
        continue;
      }
      const b: Binding = {
        agentId: agent.id, contact: ch.contact, flow, destination: flowDestination(flow), expiresAt: now + ch.expires * 1000, updatedAt: now, callId, cseq,
        ...(ch.instance ? { instance: ch.instance } : {}),
      };
      if (old) {
        this.timers.get(old)?.cancel();
        this.timers.delete(old);
      }
      const wasRegistered = this.byAgent.get(agent.id)?.size ?? 0;
      set.set(ch.key, b);
      this.byAgent.set(agent.id, set);
      this.timers.set(b, this.opts.clock.set(ch.expires * 1000, () => this.remove(agent.id, b, 'expired')));
      if (!old) {
        this.stats.registered++;
        log.info({ agent: agent.id, contact: b.contact, expires: ch.expires, transport: flow.transport, connectionId: flow.connectionId }, 'agent registered');
      }
      if (wasRegistered === 0) this.emit(agent.id, true);
    }
    this.ok(agent, reply);
  }

  /** Step 8: 200 listing every current binding with its remaining time. */
  private ok(agent: AgentConfig, reply: (s: number, r?: string, e?: Record<string, string | string[]>) => void): void {
    const now = this.opts.clock.now();
    const contacts = this.bindings(agent.id).map((b) => `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`);
    const extra: Record<string, string | string[]> = { Date: new Date().toUTCString() };
    if (contacts.length) extra['Contact'] = contacts;
    reply(200, undefined, extra);
  }

  private remove(agentId: string, b: Binding, why: string): void {
    const set = this.byAgent.get(agentId);
    if (!set) return;
    for (const [k, v] of set) if (v === b) set.delete(k);
    this.timers.get(b)?.cancel();
    this.timers.delete(b);
    this.stats.unregistered++;
    this.opts.logger.info({ callId: b.callId, agent: agentId, contact: b.contact, why }, 'agent binding removed');
    if (set.size === 0) {
      this.byAgent.delete(agentId);
      this.emit(agentId, false);
    }
  }

  private emit(agentId: string, registered: boolean): void {
    for (const fn of [...this.listeners]) fn(agentId, registered);
  }
}

/**
 * The registrar of a WebSocket-enabled profile: REGISTER from the UA goes to it, and bindings go
 * when their connection closes.
 */
/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), if there is one. */
function bearerOf(req: SipRequest): string | undefined {
  for (const line of req.headers.getAll('Authorization')) {
    const m = /^\s*Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

export function startRegistrar(profile: SipProfile, endpoint: SipEndpoint, ua: UserAgent, logger: Logger, opts: Partial<RegistrarOptions> = {}): Registrar {
  const reg = new Registrar({ profile, clock: endpoint.clock, logger: logger.child({ profile: profile.name, component: 'registrar' }), ...opts });
  ua.setRegistrar(reg);
  endpoint.onFlowClosed((flow) => reg.flowClosed(flow));
  return reg;
}
