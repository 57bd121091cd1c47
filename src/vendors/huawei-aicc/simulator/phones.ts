/**
 * The platform's SIP registrar for its agents' softphone numbers (RFC 3261 §10.3): a phone
 * registers its number with digest credentials (RFC 7616, MD5 and qop=auth as softphone accounts
 * use), and the platform's calls to that agent go to the Contact it bound. Strict like a real
 * registrar: an unknown number is 404, wrong credentials 403 after the challenge was answered,
 * an interval under Min-Expires 423 (§10.3 step 7), Expires 0 removes the binding (§10.2.2).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { DigestError, formatChallenge, makeNonce, parseAuthorization, verifyDigest, type DigestCredentials } from '../../../sip/digest.js';
import type { ServerTransaction } from '../../../sip/endpoint.js';
import { parseNameAddr, parseUri } from '../../../sip/grammar.js';
import type { SipRequest } from '../../../sip/message.js';
import { makeResponse, newTag } from '../../../sip/response.js';
import type { Flow } from '../../../sip/transport/types.js';
import type { RegisterHandler } from '../../../sip/ua.js';

export interface PhoneBinding {
  number: string;
  /** The Contact URI as registered: where the platform's calls to this phone go. */
  contact: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface PhoneRegistrarOptions {
  /** Softphone number -> its registration password. */
  phones: Map<string, string>;
  realm: string;
  now: () => number;
  log: Logger;
  minExpires?: number;
  maxExpires?: number;
}

export class PhoneRegistrar implements RegisterHandler {
  private readonly bindings = new Map<string, PhoneBinding>();
  private readonly secret = randomBytes(32);
  private readonly ncSeen = new Map<string, number>();
  readonly stats = { registered: 0, unregistered: 0, challenged: 0, refused: 0 };
  /** A phone's binding appeared (true) or went (false). */
  onChange?: (number: string, bound: boolean) => void;

  constructor(private readonly o: PhoneRegistrarOptions) {}

  /** The live binding of a softphone number. */
  lookup(number: string): PhoneBinding | undefined {
    const b = this.bindings.get(number);
    if (b && b.expiresAt <= this.o.now()) {
      this.bindings.delete(number);
      this.onChange?.(number, false);
      return undefined;
    }
    return b;
  }

  snapshot(): PhoneBinding[] {
    return [...this.bindings.keys()].map((n) => this.lookup(n)).filter((b): b is PhoneBinding => !!b);
  }

  /** Drop a binding as if it lapsed (tests: the phone must register again). */
  drop(number: string): void {
    if (this.bindings.delete(number)) this.onChange?.(number, false);
  }

  register(req: SipRequest, tx: ServerTransaction, _flow: Flow): void {
    const reply = (status: number, reason: string, extra?: Record<string, string | string[]>): void => {
      if (status === 401) this.stats.challenged++;
      else if (status >= 300) this.stats.refused++;
      if (status >= 300 && status !== 401) this.o.log.info({ status, reason }, 'huawei-aicc sim: REGISTER refused');
      tx.respond(makeResponse(req, status, reason, newTag(), extra));
    };
    let number: string;
    try {
      number = parseUri(parseNameAddr(req.headers.get('To') ?? '').uri).user ?? '';
    } catch {
      return reply(400, 'Invalid To URI');
    }
    const password = this.o.phones.get(number);
    if (password === undefined) return reply(404, `No softphone number ${number.slice(0, 24) || '(none)'} in this tenant`);
    const challenge = (reason: string, stale = false): void =>
      reply(401, reason, { 'WWW-Authenticate': formatChallenge({ realm: this.o.realm, nonce: makeNonce(this.secret, this.o.realm, this.o.now()), algorithm: 'MD5', ...(stale ? { stale } : {}) }) });
    let creds: DigestCredentials | undefined;
    try {
      for (const line of req.headers.getAll('Authorization')) {
        const c = parseAuthorization(line);
        if (c && c.realm === this.o.realm) creds = c;
      }
    } catch (e) {
      if (e instanceof DigestError) return reply(400, e.message);
      throw e;
    }
    if (!creds) return challenge('Unauthorized');
    if (creds.username !== number) return reply(403, `Digest username ${creds.username.slice(0, 24)} is not softphone ${number}`);
    const v = verifyDigest(creds, { method: 'REGISTER', requestUri: req.uri, realm: this.o.realm, password, secret: this.secret, nowMs: this.o.now(), nonceTtlMs: 300_000 });
    if (!v.ok) {
      if (v.why === 'stale') return challenge(v.reason, true);
      if (v.why === 'response') return reply(403, `Wrong password for softphone ${number}`);
      return v.why === 'uri' || v.why === 'qop' ? reply(400, v.reason) : challenge(v.reason);
    }
    const last = this.ncSeen.get(creds.nonce) ?? 0;
    if (v.nc <= last) return challenge('Digest nc reused', true);
    this.ncSeen.set(creds.nonce, v.nc);
    if (this.ncSeen.size > 10_000) this.ncSeen.clear();

    const contactHeader = req.headers.get('Contact');
    const expiresHeader = Number(req.headers.get('Expires') ?? 3600);
    if (!contactHeader) {
      const b = this.lookup(number);
      return reply(200, 'OK', b ? { Contact: `<${b.contact}>;expires=${Math.round((b.expiresAt - this.o.now()) / 1000)}` } : {});
    }
    let contact: string;
    let expires = expiresHeader;
    try {
      if (contactHeader.trim() === '*') contact = '*';
      else {
        const na = parseNameAddr(contactHeader);
        contact = na.uri;
        parseUri(contact);
        const m = /;\s*expires\s*=\s*(\d+)/i.exec(contactHeader.slice(contactHeader.indexOf('>') + 1));
        if (m) expires = Number(m[1]);
      }
    } catch {
      return reply(400, 'Invalid Contact');
    }
    if (!Number.isInteger(expires) || expires < 0) return reply(400, 'Invalid Expires');
    if (expires === 0 || contact === '*') {
      if (this.bindings.delete(number)) {
        this.stats.unregistered++;
        this.onChange?.(number, false);
      }
      return reply(200, 'OK');
    }
    const min = this.o.minExpires ?? 60;
    if (expires < min) return reply(423, 'Interval Too Brief', { 'Min-Expires': String(min) });
    expires = Math.min(expires, this.o.maxExpires ?? 3600);
    const had = !!this.lookup(number);
    this.bindings.set(number, { number, contact, expiresAt: this.o.now() + expires * 1000 });
    this.stats.registered++;
    if (!had) this.onChange?.(number, true);
    reply(200, 'OK', { Contact: `<${contact}>;expires=${expires}` });
  }
}
