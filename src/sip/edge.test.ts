/**
 * The SIP edge never ends the process and answers what RFC 3261 §8.2 says, over a real loopback
 * UDP socket (fake clock for the protocol timers): the Session-Expires datagram that used to kill
 * the gateway, a bug in the transaction user, the UAS checks for every method, and the source
 * policy (trust, per-source rate) applied before parsing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import type { SipResponse } from './message.js';
import { negotiate, parseSessionExpires } from './session-timer.js';
import { SourcePolicy } from './source-limits.js';
import { parseAndValidate } from './parser.js';
import { isRes, startUa } from '../../test/helpers/sip-ua-harness.js';
import { faults } from '../util/faults.js';
import type { SipRequest } from './message.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

function request(method: string, port: number, opts: { uri?: string; extra?: string; callId?: string; body?: string } = {}): string {
  const body = opts.body ?? (method === 'INVITE' ? SDP : '');
  const callId = opts.callId ?? `edge-${method}-${Math.random().toString(36).slice(2)}`;
  return `${method} ${opts.uri ?? 'sip:+18990000001@127.0.0.1'} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${callId}
From: <sip:caller@127.0.0.1>;tag=ft
To: <sip:+18990000001@127.0.0.1>
Call-ID: ${callId}
CSeq: 1 ${method}
Max-Forwards: 70
${opts.extra ?? ''}${body ? 'Content-Type: application/sdp\n' : ''}Content-Length: ${Buffer.byteLength(body.replace(/\r?\n/g, '\r\n'))}

${body}`;
}

describe('Session-Expires (RFC 4028 §4 grammar) never throws', () => {
  it('parses the valid forms and reports the invalid ones', () => {
    expect(parseSessionExpires('1800')).toEqual({ interval: 1800 });
    expect(parseSessionExpires('1800 ; refresher = UAC ; x=1')).toEqual({ interval: 1800, refresher: 'uac' });
    for (const bad of ['1800;refresher=a,b', '1800;refresher=a', '1800;refresher', 'abc', '1800;;', '', '12345678901', '1800;refresher="uac']) {
      expect(parseSessionExpires(bad)).toHaveProperty('error');
    }
  });

  it('negotiate answers invalid (400) instead of throwing, and caps a huge interval', () => {
    const req = (se: string) => parseAndValidate(Buffer.from(request('INVITE', 5060, { extra: `Session-Expires: ${se}\nSupported: timer\n` }).replace(/\n/g, '\r\n'))) as SipRequest;
    const cfg = { minSE: 90, defaultExpires: 1800 };
    expect(negotiate(req('1800;refresher=a,b'), cfg)).toMatchObject({ kind: 'invalid' });
    expect(negotiate(req('9999999999'), cfg)).toMatchObject({ kind: 'use', timer: { interval: 86_400 } });
    expect(negotiate(req('60'), cfg)).toEqual({ kind: 'reject', minSE: 90 });
  });

  it('regression: the INVITE with Session-Expires: 1800;refresher=a,b gets 400 and the endpoint keeps answering', async () => {
    const { ep, ua, peer } = await setup();
    let invites = 0;
    ua.on('invite', () => invites++);
    peer.send(request('INVITE', peer.port, { extra: 'Session-Expires: 1800;refresher=a,b\n' }), ep.port);
    const bad = (await peer.next(isRes(400, 'INVITE'))) as SipResponse;
    expect(bad.reason).toMatch(/^Invalid Session-Expires/);
    expect(invites).toBe(0);
    peer.send(request('OPTIONS', peer.port), ep.port);
    await peer.next(isRes(200, 'OPTIONS'));
  });
});

const setup = () => startUa(cleanup, new FakeClock());

describe('the fault boundary', () => {
  it('a transaction user that throws: the request gets 500, the fault is counted, the next request is served', async () => {
    const { ep, ua, peer } = await setup();
    const before = faults.counts.get('sip.request') ?? 0;
    ua.on('invite', () => {
      throw new Error('bug in the owner');
    });
    peer.send(request('INVITE', peer.port), ep.port);
    const res = (await peer.next(isRes(500, 'INVITE'))) as SipResponse;
    expect(res.reason).toBe('Internal error while handling the request');
    expect(faults.counts.get('sip.request')).toBe(before + 1);
    peer.send(request('OPTIONS', peer.port), ep.port);
    await peer.next(isRes(200, 'OPTIONS'));
  });
});

describe('UAS checks of RFC 3261 §8.2, for every method', () => {
  const cases: [string, string, Parameters<typeof request>[2], number, string?][] = [
    ['416 for an unknown URI scheme on OPTIONS (RFC 4475 §3.3.2)', 'OPTIONS', { uri: 'nobodyKnowsThisScheme:totallyopaquecontent' }, 416],
    ['416 for an unknown URI scheme on INVITE', 'INVITE', { uri: 'soap.beep://192.0.2.103:3002' }, 416],
    ['420 with Unsupported for an unknown Require on OPTIONS (RFC 4475 §3.3.5)', 'OPTIONS', { extra: 'Require: nothingSupportsThis, nothingSupportsThisEither\n' }, 420, 'nothingSupportsThis, nothingSupportsThisEither'],
    ['420 on INVITE', 'INVITE', { extra: 'Require: 100rel\n' }, 420, '100rel'],
    ['406 for an INVITE whose Accept excludes application/sdp (RFC 4475 §3.3.15)', 'INVITE', { extra: 'Accept: text/nobodyKnowsThis\n' }, 406],
    ['501 for an unknown method', 'FOO', {}, 501],
    ['405 for a known method we do not take', 'SUBSCRIBE', {}, 405],
  ];
  for (const [name, method, opts, status, unsupported] of cases) {
    it(name, async () => {
      const { ep, peer } = await setup();
      peer.send(request(method, peer.port, opts), ep.port);
      const res = (await peer.next(isRes(status))) as SipResponse;
      if (unsupported) expect(res.headers.get('Unsupported') ?? res.headers.getAll('Unsupported').join(', ')).toContain(unsupported.split(', ')[0]);
      if (status === 406) expect(res.headers.get('Accept')).toBe('application/sdp');
    });
  }

  it('Accept with application/sdp, a wildcard or nothing at all is fine', async () => {
    const { ep, ua, peer } = await setup();
    ua.on('invite', (inv) => inv.reject(486, 'busy here'));
    for (const accept of ['Accept: application/sdp, text/plain\n', 'Accept: */*\n', 'Accept: application/*;q=0.5\n', '']) {
      peer.send(request('INVITE', peer.port, { extra: accept }), ep.port);
      await peer.next(isRes(486));
    }
  });
});

describe('counters a peer cannot grow', () => {
  it('requests with methods we do not know are counted together as other (found by fuzz:sip: one label per random token)', async () => {
    const { ep, peer } = await setup();
    for (const m of ['FOO', 'BAR', 'INV%TE']) {
      peer.send(request(m, peer.port), ep.port);
      await peer.next(isRes(501));
    }
    expect(ep.stats.requestsIn.get('other')).toBe(3);
    expect([...ep.stats.requestsIn.keys()]).toEqual(['other']);
  });
});

describe('source policy (before parsing)', () => {
  it('untrusted sources are ignored or rejected; trusted ones are rate limited per address', () => {
    const clock = new FakeClock();
    const p = new SourcePolicy({ trusted: (a) => a.startsWith('10.'), untrusted: 'ignore', perSourceRate: 10, perSourceBurst: 10 }, clock);
    expect(p.check('192.0.2.1')).toBe('untrusted-ignore');
    for (let i = 0; i < 10; i++) expect(p.check('10.0.0.1')).toBe('ok');
    expect(p.check('10.0.0.1')).toBe('rate-limited');
    // Another source is not affected by the first one's flood.
    expect(p.check('10.0.0.2')).toBe('ok');
    clock.advance(500);
    for (let i = 0; i < 5; i++) expect(p.check('10.0.0.1')).toBe('ok');
    expect(p.check('10.0.0.1')).toBe('rate-limited');
    const r = new SourcePolicy({ trusted: () => false, untrusted: 'reject', perSourceRate: 0 }, clock);
    expect(r.check('10.0.0.1')).toBe('untrusted-reject');
  });
});
