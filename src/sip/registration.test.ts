/**
 * Outbound registration against a registrar written by hand on a raw UDP socket: the challenge
 * and the digest check are the server side of src/sip/digest.ts (RFC 7616), so the client's
 * credentials are verified, not just present. The refresh and retry timers run on a fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { formatChallenge, makeNonce, parseAuthorization, verifyDigest } from './digest.js';
import type { SipMessage, SipRequest } from './message.js';
import { OutboundRegistration, type RegistrationStatus } from './registration.js';
import { isReq, silentLog, startUa, type RawPeer } from '../../test/helpers/sip-ua-harness.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

const SECRET = Buffer.from('registrar-secret');
const REALM = 'cc.example.com';

async function setup(password = 'phone-pass') {
  const clock = new FakeClock();
  const { ep, peer } = await startUa(cleanup, clock);
  const states: RegistrationStatus[] = [];
  const reg = new OutboundRegistration(ep, {
    registrar: { transport: 'udp', address: '127.0.0.1', port: peer.port },
    domain: `sip:${REALM}`,
    aor: `<sip:70001@${REALM}>`,
    contact: `<sip:70001@127.0.0.1:${ep.port}>`,
    username: '70001',
    password,
    expires: 120,
    log: silentLog,
  });
  reg.onState = (s) => void states.push(s);
  cleanup.push(() => reg.stop().catch(() => undefined));
  return { clock, ep, peer, reg, states };
}

/** The registrar's answer to a REGISTER: `status` with the request's Via/From/To/Call-ID/CSeq. */
function answer(peer: RawPeer, req: SipRequest, port: number, status: string, extra: string[] = []): void {
  const h = (n: string) => req.headers.getAll(n).map((v) => `${n}: ${v}`);
  const to = `To: ${req.headers.get('To')};tag=reg1`;
  peer.send([`SIP/2.0 ${status}`, ...h('Via'), `From: ${req.headers.get('From')}`, to, `Call-ID: ${req.headers.get('Call-ID')}`, `CSeq: ${req.headers.get('CSeq')}`, ...extra, 'Content-Length: 0', '', ''].join('\n'), port);
}

const challenge = (now: number, stale = false) => `WWW-Authenticate: ${formatChallenge({ realm: REALM, nonce: makeNonce(SECRET, REALM, now), algorithm: 'SHA-256', ...(stale ? { stale } : {}) })}`;

function verified(req: SipMessage, password: string, now: number): boolean {
  const raw = (req as SipRequest).headers.get('Authorization');
  if (!raw) return false;
  const c = parseAuthorization(raw)!;
  return verifyDigest(c, { method: 'REGISTER', requestUri: `sip:${REALM}`, realm: REALM, password, secret: SECRET, nowMs: now, nonceTtlMs: 3_600_000 }).ok;
}

const settle = async (clock: FakeClock, ms = 0) => {
  await clock.run(ms);
  await new Promise((r) => setTimeout(r, 5));
};

describe('OutboundRegistration (RFC 3261 §10.2)', () => {
  it('answers the digest challenge, binds for the granted interval, and refreshes before it runs out on the same Call-ID', async () => {
    const { clock, ep, peer, reg, states } = await setup();
    reg.start();
    const r1 = (await peer.next(isReq('REGISTER'))) as SipRequest;
    expect(r1.uri).toBe(`sip:${REALM}`);
    expect(r1.headers.get('Expires')).toBe('120');
    expect(r1.headers.get('Authorization')).toBeUndefined();
    answer(peer, r1, ep.port, '401 Unauthorized', [challenge(0)]);
    const r2 = (await peer.next(isReq('REGISTER'))) as SipRequest;
    expect(verified(r2, 'phone-pass', 0)).toBe(true);
    expect(r2.headers.get('Call-ID')).toBe(r1.headers.get('Call-ID'));
    expect(Number(r2.headers.get('CSeq')!.split(' ')[0])).toBe(Number(r1.headers.get('CSeq')!.split(' ')[0]) + 1);
    // The registrar grants 60 s on our contact (less than asked).
    answer(peer, r2, ep.port, '200 OK', [`Contact: <sip:70001@127.0.0.1:${ep.port}>;expires=60`]);
    await settle(clock);
    expect(reg.state.state).toBe('registered');
    await settle(clock, 47_000);
    expect(peer.inbox.filter(isReq('REGISTER'))).toHaveLength(0);
    await settle(clock, 1_100);
    const r3 = (await peer.next(isReq('REGISTER'))) as SipRequest;
    expect(r3.headers.get('Call-ID')).toBe(r1.headers.get('Call-ID'));
    // The refresh answers the known challenge at once (nc 2).
    expect(r3.headers.get('Authorization')).toMatch(/nc=00000002/);
    expect(verified(r3, 'phone-pass', 0)).toBe(true);
    answer(peer, r3, ep.port, '200 OK', ['Expires: 60']);
    await settle(clock);
    expect(states.map((s) => s.state)).toEqual(['registering', 'registered', 'registering', 'registered']);
    expect(reg.state.registrations).toBe(2);
  });

  it('wrong credentials: challenged again, fails naming the account, retries with backoff (1 s, then 2 s)', async () => {
    const { clock, ep, peer, reg } = await setup('wrong');
    reg.start();
    for (let round = 0; round < 2; round++) {
      const a = (await peer.next(isReq('REGISTER'))) as SipRequest;
      answer(peer, a, ep.port, '401 Unauthorized', [challenge(round)]);
      const b = (await peer.next(isReq('REGISTER'))) as SipRequest;
      expect(verified(b, 'phone-pass', round)).toBe(false);
      answer(peer, b, ep.port, '401 Unauthorized', [challenge(round + 100)]);
      await settle(clock);
      expect(reg.state).toMatchObject({ state: 'retrying', lastError: '401 Unauthorized: credentials refused for 70001' });
      await settle(clock, round === 0 ? 900 : 1900);
      expect(peer.inbox.filter(isReq('REGISTER'))).toHaveLength(0);
      await settle(clock, 200);
    }
    expect(reg.state.failures).toBe(2);
  });

  it('a stale nonce is answered again without counting as a failure', async () => {
    const { clock, ep, peer, reg } = await setup();
    reg.start();
    const a = (await peer.next(isReq('REGISTER'))) as SipRequest;
    answer(peer, a, ep.port, '401 Unauthorized', [challenge(0)]);
    const b = (await peer.next(isReq('REGISTER'))) as SipRequest;
    answer(peer, b, ep.port, '401 Unauthorized', [challenge(1, true)]);
    const c = (await peer.next(isReq('REGISTER'))) as SipRequest;
    expect(verified(c, 'phone-pass', 1)).toBe(true);
    answer(peer, c, ep.port, '200 OK', ['Expires: 120']);
    await settle(clock);
    expect(reg.state).toMatchObject({ state: 'registered', failures: 0 });
  });

  it('423 Interval Too Brief: asks again with Min-Expires; 503 with Retry-After: waits that long', async () => {
    const { clock, ep, peer, reg } = await setup();
    reg.start();
    const a = (await peer.next(isReq('REGISTER'))) as SipRequest;
    answer(peer, a, ep.port, '423 Interval Too Brief', ['Min-Expires: 600']);
    const b = (await peer.next(isReq('REGISTER'))) as SipRequest;
    expect(b.headers.get('Expires')).toBe('600');
    answer(peer, b, ep.port, '503 Service Unavailable', ['Retry-After: 30']);
    await settle(clock);
    expect(reg.state).toMatchObject({ state: 'retrying', lastError: '503 Service Unavailable' });
    await settle(clock, 29_000);
    expect(peer.inbox.filter(isReq('REGISTER')).map((m) => `${(m as SipRequest).headers.get('CSeq')} ${(m as SipRequest).headers.get('Expires')}`)).toEqual([]);
    await settle(clock, 1_100);
    const c = (await peer.next(isReq('REGISTER'))) as SipRequest;
    answer(peer, c, ep.port, '200 OK', ['Expires: 600']);
    await settle(clock);
    expect(reg.state.state).toBe('registered');
  });

  it('stop() removes the binding with Expires: 0 and refreshes no more', async () => {
    const { clock, ep, peer, reg } = await setup();
    reg.start();
    const a = (await peer.next(isReq('REGISTER'))) as SipRequest;
    answer(peer, a, ep.port, '200 OK', ['Expires: 120']);
    await settle(clock);
    const stopped = reg.stop();
    const b = (await peer.next(isReq('REGISTER'))) as SipRequest;
    expect(b.headers.get('Expires')).toBe('0');
    answer(peer, b, ep.port, '200 OK');
    await stopped;
    expect(reg.state.state).toBe('stopped');
    await settle(clock, 200_000);
    expect(peer.inbox.filter(isReq('REGISTER'))).toHaveLength(0);
  });
});
