/**
 * Outbound registration (RFC 3261 §10.2): a UAC that keeps one contact bound to an address of
 * record at a registrar, the way a SIP phone does, so the platform's calls to that phone reach the
 * gateway. One Call-ID and From tag for the binding's life and an increasing CSeq (§10.2.4), digest
 * credentials when challenged (401/407, §22.2-22.3, RFC 7616), the interval the registrar grants
 * (the contact's `expires`, else Expires, §10.2.4) with a refresh well before it runs out, 423 and
 * Min-Expires (§10.3 step 7), and after a failure a retry with exponential backoff (Retry-After
 * when the registrar gives one). stop() removes the binding (Expires: 0, §10.2.2).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { authorize, parseChallenge, type ClientChallenge } from './digest.js';
import type { SipEndpoint } from './endpoint.js';
import { newRequest, SipHeaders, type SipResponse } from './message.js';
import { newTag, uniqueToken, withTag } from './response.js';
import type { TimerHandle } from './clock.js';
import type { Destination } from './transport/types.js';

export interface RegistrationOptions {
  /** Where REGISTER goes (the registrar or its outbound proxy). */
  registrar: Destination;
  /** Request-URI: the registrar's domain, e.g. `sip:cc.example.com` (§10.2: no user part). */
  domain: string;
  /** Address of record, e.g. `sip:70001@cc.example.com` (To and From). */
  aor: string;
  /** Our contact, e.g. `<sip:70001@10.0.0.5:5070>`. */
  contact: string;
  username: string;
  password: string;
  /** Requested interval, s (default 3600). */
  expires?: number;
  /** Backoff after a failure: first and longest wait, ms (defaults 1 s, 5 min). */
  retryMinMs?: number;
  retryMaxMs?: number;
  log: Logger;
}

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'retrying' | 'unregistering' | 'stopped';

export interface RegistrationStatus {
  state: RegistrationState;
  /** Epoch ms when the binding runs out (registered), or the next attempt (retrying). */
  until?: number;
  /** Why the last attempt failed. */
  lastError?: string;
  registrations: number;
  failures: number;
}

/** Refresh when this share of the granted interval is gone, and at least this long before it ends. */
const REFRESH_SHARE = 0.8;
const REFRESH_MARGIN_MS = 5000;

export class OutboundRegistration {
  private readonly callId = `${uniqueToken()}@reg`;
  private readonly fromTag = newTag();
  private cseq = 1 + Math.floor(Math.random() * 1000);
  private expires: number;
  private timer?: TimerHandle;
  /** The last challenge: later REGISTERs answer it at once (nc counting up) until the registrar sends another. */
  private challenge?: { header: 'Authorization' | 'Proxy-Authorization'; c: ClientChallenge; nc: number };
  private backoffMs = 0;
  private status: RegistrationStatus = { state: 'idle', registrations: 0, failures: 0 };
  /** Every change of state (an agent's phone: registered or not). */
  onState?: (s: RegistrationStatus) => void;

  constructor(
    private readonly ep: SipEndpoint,
    private readonly o: RegistrationOptions,
  ) {
    this.expires = o.expires ?? 3600;
  }

  get state(): RegistrationStatus {
    return { ...this.status };
  }

  start(): void {
    if (this.status.state !== 'idle' && this.status.state !== 'stopped') return;
    this.send(this.expires);
  }

  /** Remove the binding (Expires: 0) and stop refreshing. Resolves when the registrar answered (or gave up). */
  stop(): Promise<void> {
    this.timer?.cancel();
    const wasBound = this.status.state === 'registered';
    if (!wasBound) {
      this.move({ state: 'stopped' });
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.move({ state: 'unregistering' });
      this.send(0, () => {
        this.move({ state: 'stopped' });
        resolve();
      });
    });
  }

  private move(p: Partial<RegistrationStatus> & { state: RegistrationState }): void {
    const { until: _u, lastError: _e, ...kept } = this.status;
    const changed = p.state !== this.status.state;
    this.status = { ...kept, ...p };
    if (!changed) return;
    try {
      this.onState?.(this.state);
    } catch (err) {
      this.o.log.error({ err: (err as Error).message }, 'registration state listener threw');
    }
  }

  /** `answered`: this REGISTER answers the challenge to the one before it. */
  private send(expires: number, done?: () => void, answered = false): void {
    if (expires > 0) this.move({ state: 'registering' });
    const h = new SipHeaders();
    h.add('To', this.o.aor);
    h.add('From', withTag(this.o.aor, this.fromTag));
    h.add('Call-ID', this.callId);
    h.add('CSeq', `${++this.cseq} REGISTER`);
    h.add('Contact', this.o.contact);
    h.add('Expires', String(expires));
    const ch = this.challenge;
    if (ch) {
      ch.nc++;
      h.add(ch.header, authorize(ch.c, { username: this.o.username, password: this.o.password, method: 'REGISTER', uri: this.o.domain, nc: ch.nc, cnonce: randomBytes(8).toString('hex') }));
    }
    const req = newRequest('REGISTER', this.o.domain, h);
    this.ep.request(req, this.o.registrar, {
      onResponse: (res) => this.onResponse(res, expires, done, answered),
      onTimeout: () => (done ? done() : this.failed('no answer from the registrar (timeout)')),
    });
  }

  private onResponse(res: SipResponse, expires: number, done: (() => void) | undefined, answered: boolean): void {
    if (res.status < 200) return;
    if (res.status === 401 || res.status === 407) {
      const header = res.status === 401 ? 'Authorization' : 'Proxy-Authorization';
      const raw = res.headers.get(res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate');
      const c = raw ? parseChallenge(raw) : `${res.status} without a challenge header`;
      if (typeof c === 'string') return done ? done() : this.failed(`${res.status}: ${c}`);
      // Challenged again right after answering a challenge: the credentials are wrong, unless the
      // registrar only found our nonce stale (RFC 7616 §3.3).
      if (answered && !c.stale) return done ? done() : this.failed(`${res.status} ${res.reason}: credentials refused for ${this.o.username}`);
      this.challenge = { header, c, nc: 0 };
      return this.send(expires, done, true);
    }
    if (done) return done();
    if (res.status === 423) {
      const min = Number(res.headers.get('Min-Expires'));
      if (!Number.isInteger(min) || min <= this.expires) return this.failed(`423 ${res.reason} without a usable Min-Expires`);
      this.expires = min;
      return this.send(this.expires);
    }
    if (res.status >= 300) return this.failed(`${res.status} ${res.reason}`, retryAfterMs(res));
    this.backoffMs = 0;
    const granted = grantedSeconds(res, this.o.contact) ?? expires;
    const ms = granted * 1000;
    const refresh = Math.max(1000, Math.min(ms * REFRESH_SHARE, ms - REFRESH_MARGIN_MS));
    this.status.registrations++;
    this.move({ state: 'registered', until: this.ep.clock.wall() + ms });
    this.o.log.info({ aor: this.o.aor, expires: granted }, 'registered');
    this.timer = this.ep.clock.set(refresh, () => this.send(this.expires));
  }

  private failed(why: string, retryAfter?: number): void {
    this.status.failures++;
    this.backoffMs = this.backoffMs ? Math.min(this.o.retryMaxMs ?? 300_000, this.backoffMs * 2) : this.o.retryMinMs ?? 1000;
    const wait = Math.max(this.backoffMs, retryAfter ?? 0);
    this.o.log.warn({ aor: this.o.aor, err: why, retryInMs: wait }, 'registration failed');
    this.move({ state: 'retrying', until: this.ep.clock.wall() + wait, lastError: why });
    this.timer = this.ep.clock.set(wait, () => this.send(this.expires));
  }
}

/** Retry-After of a 5xx/6xx, ms (§20.33). */
function retryAfterMs(res: SipResponse): number | undefined {
  const v = Number(/^\s*(\d+)/.exec(res.headers.get('Retry-After') ?? '')?.[1]);
  return Number.isFinite(v) && v > 0 ? v * 1000 : undefined;
}

/** The interval granted to our contact: its `expires` param, else the Expires header (§10.2.4). */
function grantedSeconds(res: SipResponse, contact: string): number | undefined {
  const uriOf = (v: string): string => (/<([^>]+)>/.exec(v)?.[1] ?? v.split(';')[0]!).trim().toLowerCase();
  const ours = uriOf(contact);
  for (const c of res.headers.getAll('Contact')) {
    if (uriOf(c) !== ours) continue;
    const m = /;\s*expires\s*=\s*(\d+)/i.exec(c.slice(c.indexOf('>') + 1));
    if (m) return Number(m[1]);
  }
  const e = Number(res.headers.get('Expires'));
  return Number.isInteger(e) && e >= 0 ? e : undefined;
}
