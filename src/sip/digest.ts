/**
 * HTTP Digest for SIP, server side (RFC 3261 §22.4, RFC 7616, RFC 8760): challenges, a stateless
 * nonce, parsing an Authorization header and checking its response. qop=auth only (auth-int
 * protects the body, which REGISTER does not have). Pure functions: the caller supplies the clock
 * reading and the secret.
 *
 * Nonce = base64url(8-byte timestamp ‖ 8 random bytes ‖ first 16 bytes of HMAC-SHA256(secret,
 * timestamp ‖ random ‖ realm)): the server can tell it issued the nonce and when, without storing
 * it (RFC 7616 §3.3 suggests a time-stamp plus a private key hash). The random part keeps nonces
 * issued in the same millisecond apart, so each client's nc counts on a nonce of its own. An expired nonce gets a new challenge with stale=true so
 * the client retries without asking its user (RFC 7616 §3.3 "stale").
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256'];

const HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

export function hashHex(algorithm: DigestAlgorithm, data: string): string {
  return createHash(HASH[algorithm]).update(data, 'utf8').digest('hex');
}

// ------------------------------------------------------------------ nonce

function nonceMac(secret: Buffer, stamp: Buffer, realm: string): Buffer {
  return createHmac('sha256', secret).update(stamp).update(realm, 'utf8').digest().subarray(0, 16);
}

/** A nonce for `realm` issued at `nowMs` (any monotonic millisecond clock the verifier also uses). */
export function makeNonce(secret: Buffer, realm: string, nowMs: number): string {
  const stamp = Buffer.concat([Buffer.alloc(8), randomBytes(8)]);
  stamp.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(nowMs))));
  return Buffer.concat([stamp, nonceMac(secret, stamp, realm)]).toString('base64url');
}

export type NonceCheck = { status: 'valid'; issuedAt: number } | { status: 'stale'; issuedAt: number } | { status: 'invalid' };

/** Did we issue this nonce for this realm, and is it younger than `ttlMs`? */
export function checkNonce(nonce: string, secret: Buffer, realm: string, nowMs: number, ttlMs: number): NonceCheck {
  if (!/^[A-Za-z0-9_-]{43}$/.test(nonce)) return { status: 'invalid' };
  const raw = Buffer.from(nonce, 'base64url');
  if (raw.length !== 32) return { status: 'invalid' };
  const stamp = raw.subarray(0, 16);
  if (!timingSafeEqual(raw.subarray(16), nonceMac(secret, stamp, realm))) return { status: 'invalid' };
  const issuedAt = Number(stamp.readBigUInt64BE());
  // A nonce from the future cannot be ours unless the clock went back: treat it as stale.
  if (issuedAt > nowMs || nowMs - issuedAt > ttlMs) return { status: 'stale', issuedAt };
  return { status: 'valid', issuedAt };
}

// ------------------------------------------------------------------ challenge

export interface Challenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  opaque?: string;
  stale?: boolean;
}

const quote = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;

/** A WWW-Authenticate value (RFC 3261 §25.1 challenge; RFC 7616 §3.3). */
export function formatChallenge(c: Challenge): string {
  const parts = [`realm=${quote(c.realm)}`, `nonce=${quote(c.nonce)}`];
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  parts.push(`algorithm=${c.algorithm}`, 'qop="auth"');
  if (c.stale) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

// ------------------------------------------------------------------ credentials

export class DigestError extends Error {
  override readonly name = 'DigestError';
}

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  /** As written; absent means MD5 (RFC 7616 §3.4). */
  algorithm: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

/** RFC 3261 §25.1 digest-response / challenge syntax (RFC 7616 §3.3, §3.4): `Digest k=v, k="v", ...` as a map of lower-case names, or null for another scheme (`what` names the header in errors). */
function parseDigestParams(value: string, what: string): Map<string, string> | null {
  const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*/.exec(value);
  if (!m) throw new DigestError(`${what} without a scheme`);
  if (m[1]!.toLowerCase() !== 'digest') return null;
  const params = new Map<string, string>();
  let i = m[0].length;
  const s = value;
  while (i < s.length) {
    while (i < s.length && /[\s,]/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const nm = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*/.exec(s.slice(i));
    if (!nm) throw new DigestError(`Malformed ${what} parameter at '${s.slice(i, i + 20)}'`);
    const name = nm[1]!.toLowerCase();
    i += nm[0].length;
    let v = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new DigestError(`Unterminated quoted value for ${name.slice(0, 20)}`);
        const ch = s[i]!;
        if (ch === '\\' && i + 1 < s.length) {
          v += s[i + 1];
          i += 2;
        } else if (ch === '"') {
          i++;
          break;
        } else {
          v += ch;
          i++;
        }
      }
    } else {
      const tm = /^[^\s,"]*/.exec(s.slice(i))!;
      v = tm[0];
      i += v.length;
    }
    if (params.has(name)) throw new DigestError(`Repeated ${what} parameter ${name.slice(0, 20)}`);
    params.set(name, v);
  }
  return params;
}

/**
 * Parse an Authorization value into credentials (see parseDigestParams). Throws DigestError with a
 * reason fit for a 400 reason phrase. Returns null for another scheme.
 */
export function parseAuthorization(value: string): DigestCredentials | null {
  const params = parseDigestParams(value, 'Authorization');
  if (!params) return null;
  const need = (k: string): string => {
    const v = params.get(k);
    if (v === undefined || v === '') throw new DigestError(`Authorization without ${k}`);
    return v;
  };
  const creds: DigestCredentials = {
    username: need('username'),
    realm: params.get('realm') ?? need('realm'),
    nonce: need('nonce'),
    uri: need('uri'),
    response: need('response'),
    algorithm: params.get('algorithm') ?? 'MD5',
  };
  for (const k of ['qop', 'nc', 'cnonce', 'opaque'] as const) {
    const v = params.get(k);
    if (v !== undefined) creds[k] = v;
  }
  return creds;
}

/** The algorithm named in credentials, if we implement it (names are case-insensitive, RFC 7616 §3.3). */
export function algorithmOf(name: string): DigestAlgorithm | undefined {
  return DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === name.toLowerCase());
}

export interface ResponseInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** With qop=auth: nc and cnonce are required. Without qop: RFC 2069 compatibility form. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

/** request-digest (RFC 7616 §3.4.1; RFC 2617 §3.2.2.1): KD(H(A1), nonce:nc:cnonce:qop:H(A2)). */
export function computeResponse(r: ResponseInput): string {
  const h = (s: string): string => hashHex(r.algorithm, s);
  const ha1 = h(`${r.username}:${r.realm}:${r.password}`);
  const ha2 = h(`${r.method}:${r.uri}`);
  if (r.qop === 'auth') return h(`${ha1}:${r.nonce}:${r.nc ?? ''}:${r.cnonce ?? ''}:auth:${ha2}`);
  return h(`${ha1}:${r.nonce}:${ha2}`);
}

export type Verdict =
  | { ok: true; algorithm: DigestAlgorithm; nc: number }
  | { ok: false; why: 'stale' | 'nonce' | 'algorithm' | 'qop' | 'uri' | 'realm' | 'response'; reason: string };

export interface VerifyInput {
  method: string;
  /** The Request-URI as received: the digest uri must be the same (RFC 7616 §3.4.6). */
  requestUri: string;
  realm: string;
  password: string;
  secret: Buffer;
  nowMs: number;
  nonceTtlMs: number;
}

/** Check credentials; says which part failed so the caller answers 400, 401 or 401 stale. */
export function verifyDigest(c: DigestCredentials, v: VerifyInput): Verdict {
  if (c.realm !== v.realm) return { ok: false, why: 'realm', reason: `Digest realm "${c.realm.slice(0, 40)}" is not ours ("${v.realm}")` };
  const algorithm = algorithmOf(c.algorithm);
  if (!algorithm) return { ok: false, why: 'algorithm', reason: `Digest algorithm ${c.algorithm.slice(0, 20)} not supported (MD5, SHA-256)` };
  // We always offer qop="auth"; a client must then use it (RFC 7616 §3.4; RFC 2617 §3.2.2).
  if (c.qop?.toLowerCase() !== 'auth') return { ok: false, why: 'qop', reason: 'Digest qop=auth required' };
  if (!c.nc || !/^[0-9a-fA-F]{8}$/.test(c.nc) || !c.cnonce) return { ok: false, why: 'qop', reason: 'Digest nc (8 hex digits) and cnonce required with qop=auth' };
  if (!sameUri(c.uri, v.requestUri)) return { ok: false, why: 'uri', reason: 'Digest uri does not match the Request-URI' };
  const n = checkNonce(c.nonce, v.secret, v.realm, v.nowMs, v.nonceTtlMs);
  if (n.status === 'invalid') return { ok: false, why: 'nonce', reason: 'Digest nonce was not issued by us' };
  const expected = computeResponse({ algorithm, username: c.username, realm: c.realm, password: v.password, method: v.method, uri: c.uri, nonce: c.nonce, qop: 'auth', nc: c.nc, cnonce: c.cnonce });
  const got = Buffer.from(c.response.toLowerCase(), 'utf8');
  const want = Buffer.from(expected, 'utf8');
  const match = got.length === want.length && timingSafeEqual(got, want);
  if (!match) return { ok: false, why: 'response', reason: 'Wrong digest credentials' };
  // Right password on an old nonce: ask again with stale=true (RFC 7616 §3.3), no prompt needed.
  if (n.status === 'stale') return { ok: false, why: 'stale', reason: 'Digest nonce expired' };
  return { ok: true, algorithm, nc: parseInt(c.nc, 16) };
}

/** The digest uri is the Request-URI as the client wrote it; tolerate only case and whitespace. */
function sameUri(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

// ------------------------------------------------------------------ client side

/** A challenge we can answer, from WWW-Authenticate or Proxy-Authenticate (RFC 3261 §22.2, §22.3). */
export interface ClientChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  opaque?: string;
  qopAuth: boolean;
  stale: boolean;
}

/** The challenge, or why it cannot be answered (another scheme, an algorithm we lack, qop without auth). */
export function parseChallenge(value: string): ClientChallenge | string {
  let p: Map<string, string> | null;
  try {
    p = parseDigestParams(value, 'challenge');
  } catch (e) {
    return (e as Error).message;
  }
  if (!p) return `unsupported scheme in ${value.slice(0, 30)}`;
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined || !nonce) return 'challenge without realm or nonce';
  const algorithm = algorithmOf(p.get('algorithm') ?? 'MD5');
  if (!algorithm) return `unsupported digest algorithm ${p.get('algorithm')}`;
  const qop = p.get('qop');
  const qops = qop === undefined ? [] : qop.split(',').map((q) => q.trim().toLowerCase());
  if (qop !== undefined && !qops.includes('auth')) return `unsupported qop ${qop}`;
  const c: ClientChallenge = { realm, nonce, algorithm, qopAuth: qops.includes('auth'), stale: (p.get('stale') ?? '').toLowerCase() === 'true' };
  const opaque = p.get('opaque');
  if (opaque !== undefined) c.opaque = opaque;
  return c;
}

/** The Authorization / Proxy-Authorization value answering `c` for one request (RFC 7616 §3.4). */
export function authorize(c: ClientChallenge, o: { username: string; password: string; method: string; uri: string; nc: number; cnonce: string }): string {
  const nc = o.nc.toString(16).padStart(8, '0');
  const response = computeResponse({ algorithm: c.algorithm, username: o.username, realm: c.realm, password: o.password, method: o.method, uri: o.uri, nonce: c.nonce, ...(c.qopAuth ? { qop: 'auth' as const, nc, cnonce: o.cnonce } : {}) });
  const parts = [`username=${quote(o.username)}`, `realm=${quote(c.realm)}`, `nonce=${quote(c.nonce)}`, `uri=${quote(o.uri)}`, `response=${quote(response)}`, `algorithm=${c.algorithm}`];
  if (c.qopAuth) parts.push('qop=auth', `nc=${nc}`, `cnonce=${quote(o.cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
