import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkNonce, computeResponse, formatChallenge, makeNonce, parseAuthorization, verifyDigest, DigestError } from './digest.js';

// An independent formula (RFC 2617 §3.2.2.1 written out) to check computeResponse against.
const H = (alg: string, s: string): string => createHash(alg).update(s).digest('hex');
function expected(alg: 'md5' | 'sha256', u: string, realm: string, pw: string, method: string, uri: string, nonce: string, nc: string, cnonce: string): string {
  return H(alg, [H(alg, `${u}:${realm}:${pw}`), nonce, nc, cnonce, 'auth', H(alg, `${method}:${uri}`)].join(':'));
}

describe('digest response', () => {
  it('matches RFC 2617 §3.5 (MD5, qop=auth)', () => {
    const r = computeResponse({
      algorithm: 'MD5', username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET',
      uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
    });
    expect(r).toBe('6629fae49393a05397450978507c4ef1');
    expect(r).toBe(expected('md5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life', 'GET', '/dir/index.html', 'dcd98b7102dd2f0e8b11d0f600bfb0c093', '00000001', '0a4f113b'));
  });

  it('matches RFC 7616 §3.9.1 (MD5 and SHA-256)', () => {
    const common = {
      username: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', qop: 'auth' as const, nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    expect(computeResponse({ ...common, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(computeResponse({ ...common, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('SIP REGISTER values agree with the independent formula', () => {
    const a = ['+18990000002', 'vagw', 's3cret', 'REGISTER', 'sip:127.0.0.1', 'abc', '0000000a', 'xyz'] as const;
    expect(computeResponse({ algorithm: 'SHA-256', username: a[0], realm: a[1], password: a[2], method: a[3], uri: a[4], nonce: a[5], qop: 'auth', nc: a[6], cnonce: a[7] })).toBe(
      expected('sha256', ...a),
    );
  });
});

describe('nonce', () => {
  const secret = Buffer.alloc(32, 7);
  it('is accepted until it expires, then stale; a forged or foreign nonce is invalid', () => {
    const n = makeNonce(secret, 'r', 1000);
    expect(checkNonce(n, secret, 'r', 1000 + 299_999, 300_000).status).toBe('valid');
    expect(checkNonce(n, secret, 'r', 1000 + 300_001, 300_000).status).toBe('stale');
    expect(checkNonce(n, Buffer.alloc(32, 8), 'r', 1000, 300_000).status).toBe('invalid');
    expect(checkNonce(n, secret, 'other-realm', 1000, 300_000).status).toBe('invalid');
    expect(checkNonce(n.slice(0, -2) + (n.endsWith('AA') ? 'BB' : 'AA'), secret, 'r', 1000, 300_000).status).toBe('invalid');
    expect(checkNonce('not a nonce', secret, 'r', 1000, 300_000).status).toBe('invalid');
    // Issued in the same millisecond, still distinct (each client counts nc on its own nonce).
    expect(makeNonce(secret, 'r', 1000)).not.toBe(n);
  });
});

describe('challenge and Authorization', () => {
  it('formats a challenge with qop and stale', () => {
    expect(formatChallenge({ realm: 'vagw', nonce: 'N', algorithm: 'SHA-256', stale: true })).toBe('Digest realm="vagw", nonce="N", algorithm=SHA-256, qop="auth", stale=true');
  });

  it('parses SIP.js-style credentials (unquoted algorithm, qop and nc; escapes)', () => {
    const c = parseAuthorization('Digest algorithm=MD5, username="va\\"1", realm="vagw", nonce="n1", uri="sip:127.0.0.1", response="abc", qop=auth, cnonce="c1", nc=00000001');
    expect(c).toEqual({ username: 'va"1', realm: 'vagw', nonce: 'n1', uri: 'sip:127.0.0.1', response: 'abc', algorithm: 'MD5', qop: 'auth', nc: '00000001', cnonce: 'c1' });
    expect(parseAuthorization('Bearer abc')).toBeNull();
    expect(() => parseAuthorization('Digest username="a", realm="r"')).toThrow(DigestError);
    expect(() => parseAuthorization('Digest username="a')).toThrow(/Unterminated/);
    expect(() => parseAuthorization('Digest username="a", username="b"')).toThrow(/Repeated/);
  });

  const secret = Buffer.alloc(32, 1);
  const base = { method: 'REGISTER', requestUri: 'sip:127.0.0.1', realm: 'vagw', password: 'pw', secret, nonceTtlMs: 60_000 };
  const creds = (now: number, over: Record<string, string> = {}, password = 'pw', algorithm: 'MD5' | 'SHA-256' = 'MD5') => {
    const nonce = over['nonce'] ?? makeNonce(secret, 'vagw', now);
    const v = { username: 'va-1', realm: 'vagw', nonce, uri: 'sip:127.0.0.1', algorithm, qop: 'auth', nc: '00000001', cnonce: 'cn', ...over };
    const response = computeResponse({ algorithm, username: v.username, realm: v.realm, password, method: 'REGISTER', uri: v.uri, nonce, qop: 'auth', nc: v.nc, cnonce: v.cnonce });
    return { ...v, response };
  };

  it('verifies MD5 and SHA-256 and says what is wrong otherwise', () => {
    expect(verifyDigest(creds(0), { ...base, nowMs: 10 })).toMatchObject({ ok: true, algorithm: 'MD5', nc: 1 });
    expect(verifyDigest(creds(0, {}, 'pw', 'SHA-256'), { ...base, nowMs: 10 })).toMatchObject({ ok: true, algorithm: 'SHA-256' });
    expect(verifyDigest(creds(0, {}, 'wrong'), { ...base, nowMs: 10 })).toMatchObject({ ok: false, why: 'response' });
    expect(verifyDigest(creds(0), { ...base, nowMs: 60_001 })).toMatchObject({ ok: false, why: 'stale' });
    expect(verifyDigest(creds(0, { nonce: 'forged' }), { ...base, nowMs: 10 })).toMatchObject({ ok: false, why: 'nonce' });
    expect(verifyDigest(creds(0, { uri: 'sip:other' }), { ...base, nowMs: 10 })).toMatchObject({ ok: false, why: 'uri' });
    expect(verifyDigest(creds(0, { realm: 'x' }), { ...base, nowMs: 10 })).toMatchObject({ ok: false, why: 'realm' });
    expect(verifyDigest({ ...creds(0), algorithm: 'MD5-sess' }, { ...base, nowMs: 10 })).toMatchObject({ ok: false, why: 'algorithm' });
    const { qop: _q, ...noQop } = creds(0);
    expect(verifyDigest(noQop, { ...base, nowMs: 10 })).toMatchObject({ ok: false, why: 'qop' });
  });
});
