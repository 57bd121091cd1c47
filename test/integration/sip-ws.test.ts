/**
 * SIP over WebSocket (RFC 7118) against a whole gateway: a real `ws` client on the HTTP port's
 * /sip path registers as a virtual agent with digest (hand-written REGISTERs, digest computed here
 * by the RFC 2617 formula), and the registrar's bindings follow the connection. The last test runs
 * the real SIP.js 0.21 UserAgent + Registerer in Node.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RunningGateway } from '../../src/server.js';
import { newRequest, SipHeaders, type SipResponse } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parser.js';
import { startFixture } from '../helpers/gateway.js';

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startFixture('ws-gateway.yaml');
});
afterAll(async () => {
  await gw.shutdown(0);
});

class WsSip {
  inbox: SipResponse[] = [];
  private seq = 0;
  readonly callId = `ws-${Math.random().toString(36).slice(2)}`;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const m = parseMessage(d);
      if (m.type === 'response') this.inbox.push(m);
    });
  }
  static open(protocol: string | string[] = 'sip'): Promise<WsSip> {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/sip`, protocol);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsSip(ws)));
      ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }
  async request(method: 'REGISTER' | 'OPTIONS', o: { user: string; auth?: string; expires?: string; contact?: string }): Promise<SipResponse> {
    const cseq = ++this.seq;
    const text = [
      `${method} sip:127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/WS k3j2h1.invalid;branch=z9hG4bK${this.callId}${cseq}`,
      `From: <sip:${o.user}@127.0.0.1>;tag=t${this.callId}`,
      `To: <sip:${o.user}@127.0.0.1>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      'Max-Forwards: 70',
      ...(method === 'REGISTER' ? [`Contact: ${o.contact ?? `<sip:u${this.callId}@k3j2h1.invalid;transport=ws>;+sip.instance="<urn:uuid:${this.callId}>"`}`] : []),
      ...(o.expires ? [`Expires: ${o.expires}`] : []),
      ...(o.auth ? [`Authorization: ${o.auth}`] : []),
      // RFC 7118: no Content-Length needed over WebSocket.
      '',
      '',
    ].join('\r\n');
    this.ws.send(text);
    for (let i = 0; i < 300; i++) {
      const idx = this.inbox.findIndex((r) => r.headers.get('CSeq') === `${cseq} ${method}`);
      if (idx >= 0) return this.inbox.splice(idx, 1)[0]!;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no response to ${method} ${cseq}`);
  }
}

const H = (alg: string, s: string): string => createHash(alg).update(s).digest('hex');
let ncCounter = 0;
function digest(challenge: SipResponse, user: string, password: string, algorithm: 'MD5' | 'SHA-256' = 'MD5'): string {
  const ch = challenge.headers.getAll('WWW-Authenticate').find((c) => c.includes(`algorithm=${algorithm},`))!;
  const realm = /realm="([^"]+)"/.exec(ch)![1]!;
  const nonce = /nonce="([^"]+)"/.exec(ch)![1]!;
  const alg = algorithm === 'MD5' ? 'md5' : 'sha256';
  const nc = (++ncCounter).toString(16).padStart(8, '0');
  const response = H(alg, `${H(alg, `${user}:${realm}:${password}`)}:${nonce}:${nc}:c0ffee:auth:${H(alg, 'REGISTER:sip:127.0.0.1')}`);
  return `Digest algorithm=${algorithm}, username="${user}", realm="${realm}", nonce="${nonce}", uri="sip:127.0.0.1", response="${response}", qop=auth, cnonce="c0ffee", nc=${nc}`;
}

describe('SIP over WebSocket on the gateway HTTP port', () => {
  it('refuses a WebSocket without the sip subprotocol', async () => {
    await expect(WsSip.open('chat')).rejects.toThrow('HTTP 400');
  });

  it('answers OPTIONS over the WebSocket', async () => {
    const c = await WsSip.open();
    const r = await c.request('OPTIONS', { user: 'probe' });
    expect(r.status).toBe(200);
    expect(r.headers.getAll('Allow')).toContain('REGISTER');
    c.ws.close();
  });

  it('401 challenge then 200 with MD5; the binding lives on the connection and goes when it closes', async () => {
    const reg = gw.calls.registrar!;
    const events: [string, boolean][] = [];
    const off = reg.onChange((a, r) => events.push([a, r]));
    const c = await WsSip.open();
    const ch = await c.request('REGISTER', { user: '+18990000501' });
    expect(ch.status).toBe(401);
    // SHA-256 preferred (first), MD5 last: SIP.js keeps only the last one and speaks only MD5.
    expect(ch.headers.getAll('WWW-Authenticate').map((c) => c.replace(/nonce="[^"]+"/, 'nonce=N'))).toEqual([
      'Digest realm="web", nonce=N, algorithm=SHA-256, qop="auth"',
      'Digest realm="web", nonce=N, algorithm=MD5, qop="auth"',
    ]);
    const ok = await c.request('REGISTER', { user: '+18990000501', auth: digest(ch, '+18990000501', 'w1-secret'), expires: '300' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('Contact')).toMatch(/;expires=300$/);
    const b = reg.lookup('va-w1')!;
    expect(b.flow.transport).toBe('ws');
    expect(b.destination).toMatchObject({ transport: 'ws', connectionId: b.flow.connectionId });
    expect(events).toEqual([['va-w1', true]]);
    c.ws.close();
    await expect.poll(() => reg.lookup('va-w1')).toBeUndefined();
    expect(events).toEqual([['va-w1', true], ['va-w1', false]]);
    off();
  });

  it('SHA-256 digest, with the agent id as username', async () => {
    const c = await WsSip.open();
    const ch = await c.request('REGISTER', { user: 'va-w3' });
    const ok = await c.request('REGISTER', { user: 'va-w3', auth: digest(ch, 'va-w3', 'w3-secret', 'SHA-256') });
    expect(ok.status).toBe(200);
    expect(gw.calls.registrar!.lookup('va-w3')).toBeDefined();
    c.ws.close();
  });

  it('wrong password: 401 with a fresh challenge, then 403 after repeated failures', async () => {
    const c = await WsSip.open();
    let ch = await c.request('REGISTER', { user: '+18990000504' });
    for (let i = 0; i < 5; i++) {
      const r = await c.request('REGISTER', { user: '+18990000504', auth: digest(ch, '+18990000504', 'guess') });
      expect(`${r.status} ${r.reason}`).toBe('401 Wrong credentials for virtual agent va-w4');
      expect(r.headers.get('WWW-Authenticate')).not.toBe(ch.headers.get('WWW-Authenticate'));
      ch = r;
    }
    const r = await c.request('REGISTER', { user: '+18990000504', auth: digest(ch, '+18990000504', 'w4-secret') });
    expect(`${r.status} ${r.reason}`).toBe('403 Too many failed registrations for virtual agent va-w4; try again later');
    c.ws.close();
  });

  it('agent without sipPassword 403, unknown number 404, too brief 423', async () => {
    const c = await WsSip.open();
    const noPw = await c.request('REGISTER', { user: '+18990000502' });
    expect(`${noPw.status} ${noPw.reason}`).toBe('403 Virtual agent va-w2 does not accept registrations');
    // Agents of other profiles are not this registrar's.
    const other = await c.request('REGISTER', { user: '+18990000601' });
    expect(`${other.status} ${other.reason}`).toBe('404 No virtual agent at +18990000601 on profile web');
    const ch = await c.request('REGISTER', { user: '+18990000503' });
    const brief = await c.request('REGISTER', { user: '+18990000503', auth: digest(ch, '+18990000503', 'w3-secret'), expires: '10' });
    expect(`${brief.status} ${brief.reason}`).toBe('423 Interval Too Brief');
    expect(brief.headers.get('Min-Expires')).toBe('60');
    c.ws.close();
  });

  it('REGISTER on a profile without WebSocket is 405', async () => {
    const dgram = await import('node:dgram');
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const got = new Promise<SipResponse>((r) => s.once('message', (m) => r(parseMessage(m) as SipResponse)));
    const msg = `REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${s.address().port};branch=z9hG4bKplain1\r\nFrom: <sip:+18990000601@127.0.0.1>;tag=a\r\nTo: <sip:+18990000601@127.0.0.1>\r\nCall-ID: plain1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n`;
    s.send(msg, gw.sipPorts['plain']!, '127.0.0.1');
    expect((await got).status).toBe(405);
    s.close();
  });
});

describe('SIP.js 0.21 in Node', () => {
  it('UserAgent + Registerer register as an agent over /sip, and unregister', async () => {
    // SIP.js opens `new WebSocket(server, "sip")`: Node 20 has no WebSocket global, so the test
    // supplies the `ws` client as that global (Node 22 ships one natively).
    const g = globalThis as { WebSocket?: unknown };
    const had = g.WebSocket;
    g.WebSocket ??= WebSocket;
    const { UserAgent, Registerer, RegistererState } = await import('sip.js');
    const ua = new UserAgent({
      uri: UserAgent.makeURI('sip:+18990000501@127.0.0.1'),
      transportOptions: { server: `ws://127.0.0.1:${gw.httpPort}/sip` },
      authorizationUsername: '+18990000501',
      authorizationPassword: 'w1-secret',
      logLevel: (process.env['SIPJS_LOG'] as 'error' | undefined) ?? 'error',
      logBuiltinEnabled: !!process.env['SIPJS_LOG'],
    });
    try {
      await ua.start();
      const registerer = new Registerer(ua, { expires: 120, registrar: UserAgent.makeURI('sip:127.0.0.1') });
      const states: string[] = [];
      registerer.stateChange.addListener((s) => states.push(s));
      await registerer.register();
      await expect.poll(() => registerer.state, { timeout: 5000 }).toBe(RegistererState.Registered);
      const b = gw.calls.registrar!.lookup('va-w1')!;
      expect(b.contact).toMatch(/\.invalid;transport=ws$/);
      expect(b.flow.transport).toBe('ws');
      // A request to the agent goes over its binding's flow (the Contact host is .invalid).
      const h = new SipHeaders().add('From', '<sip:gw@127.0.0.1>;tag=gw1').add('To', '<sip:+18990000501@127.0.0.1>').add('Call-ID', 'ws-options-1').add('CSeq', '1 OPTIONS');
      const status = await new Promise<number>((resolve) => {
        const ep = gw.calls.profiles.find((p) => p.profile.name === 'web')!.endpoint;
        ep.request(newRequest('OPTIONS', b.contact, h), b.destination, { onResponse: (r) => resolve(r.status), onTimeout: () => resolve(408) });
      });
      expect(status).toBe(200);
      await registerer.unregister();
      await expect.poll(() => registerer.state, { timeout: 5000 }).toBe(RegistererState.Unregistered);
      expect(gw.calls.registrar!.lookup('va-w1')).toBeUndefined();
      expect(states).toEqual([RegistererState.Registered, RegistererState.Unregistered]);
    } finally {
      await ua.stop();
      if (had === undefined) delete g.WebSocket;
    }
  });
});
