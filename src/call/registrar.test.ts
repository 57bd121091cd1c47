/**
 * Registrar behaviour through a real endpoint + UA over loopback UDP (hand-written REGISTERs), with
 * a fake clock for nonce and binding expiry. Digest responses are computed here by the RFC 2617
 * §3.2.2.1 formula, independently of src/sip/digest.ts.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { AgentConfig } from '../config/types.js';
import { FakeClock } from '../sip/clock.js';
import { SipEndpoint } from '../sip/endpoint.js';
import type { SipResponse } from '../sip/message.js';
import { parseMessage } from '../sip/parser.js';
import { UserAgent } from '../sip/ua.js';
import { Registrar } from './registrar.js';

const log = pino({ level: 'silent' });
const agent = (id: string, number: string, sipPassword?: string): AgentConfig => ({
  id, number, key: number.replace(/^\+/, ''), initialState: 'ready', engine: 'builtin:echo', vendorUser: id, ...(sipPassword ? { sipPassword } : {}),
});

let cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function setup(opts: { maxFailures?: number; bearer?: (token: string) => Promise<string> } = {}) {
  const clock = new FakeClock();
  const ep = new SipEndpoint({ host: '127.0.0.1', port: 0, transports: ['udp'], advertisedHost: '127.0.0.1', logger: log, clock });
  await ep.start();
  const ua = new UserAgent(ep, { userAgent: 'test', sessionTimers: { minSE: 90, defaultExpires: 1800 }, logger: log });
  const reg = new Registrar({
    profile: { name: 'wsp', numberNormalization: 'nanp', agents: [agent('va-1', '+18990000001', 'pw1'), agent('va-2', '+18990000002')] },
    clock, logger: log, ...opts,
  });
  ua.setRegistrar(reg);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const inbox: SipResponse[] = [];
  sock.on('message', (m) => inbox.push(parseMessage(m) as SipResponse));
  cleanup.push(async () => {
    reg.close();
    await ep.stop();
    sock.close();
  });
  let cseq = 0;
  const send = async (o: { user?: string; contact?: string; expires?: string; auth?: string; callId?: string; cseq?: number } = {}): Promise<SipResponse> => {
    const n = o.cseq ?? ++cseq;
    const lines = [
      'REGISTER sip:127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:${sock.address().port};branch=z9hG4bK-r${Math.random().toString(36).slice(2)}`,
      `From: <sip:${o.user ?? '+18990000001'}@127.0.0.1>;tag=f1`,
      `To: <sip:${o.user ?? '+18990000001'}@127.0.0.1>`,
      `Call-ID: ${o.callId ?? 'reg-1'}`,
      `CSeq: ${n} REGISTER`,
      ...(o.contact === '' ? [] : [`Contact: ${o.contact ?? '<sip:abc@df7jal23ls0d.invalid;transport=ws>'}`]),
      ...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
      ...(o.auth ? [`Authorization: ${o.auth}`] : []),
      'Content-Length: 0',
      '',
      '',
    ];
    inbox.length = 0;
    sock.send(Buffer.from(lines.join('\r\n')), ep.port, '127.0.0.1');
    for (let i = 0; i < 300 && inbox.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    if (!inbox[0]) throw new Error('no response');
    return inbox[0];
  };
  return { clock, reg, send };
}

const H = (alg: string, s: string): string => createHash(alg).update(s).digest('hex');
/** Authorization for the challenge in `res` (the first, or the one with `algorithm`). */
function answer(res: SipResponse, password: string, o: { algorithm?: 'MD5' | 'SHA-256'; username?: string; nc?: string; uri?: string } = {}): string {
  const chs = res.headers.getAll('WWW-Authenticate');
  const ch = chs.find((c) => !o.algorithm || c.includes(`algorithm=${o.algorithm}`))!;
  const realm = /realm="([^"]+)"/.exec(ch)![1]!;
  const nonce = /nonce="([^"]+)"/.exec(ch)![1]!;
  const algorithm = /algorithm=([A-Z0-9-]+)/.exec(ch)![1]!;
  const alg = algorithm === 'MD5' ? 'md5' : 'sha256';
  const username = o.username ?? '+18990000001';
  const uri = o.uri ?? 'sip:127.0.0.1';
  const nc = o.nc ?? '00000001';
  const response = H(alg, `${H(alg, `${username}:${realm}:${password}`)}:${nonce}:${nc}:cn0:auth:${H(alg, `REGISTER:${uri}`)}`);
  return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="cn0"`;
}

describe('Registrar', () => {
  it('challenges, then binds with MD5 or SHA-256 and lists the bindings', async () => {
    const { send, reg } = await setup();
    const changes: [string, boolean][] = [];
    reg.onChange((a, r) => changes.push([a, r]));
    const ch = await send();
    expect(ch.status).toBe(401);
    expect(ch.headers.getAll('WWW-Authenticate').map((c) => /algorithm=(\S+?),/.exec(c)![1])).toEqual(['SHA-256', 'MD5']);
    const ok = await send({ auth: answer(ch, 'pw1'), expires: '120' });
    expect(ok.status).toBe(200);
    expect(ok.headers.getAll('Contact')).toEqual(['<sip:abc@df7jal23ls0d.invalid;transport=ws>;expires=120']);
    expect(changes).toEqual([['va-1', true]]);
    const b = reg.lookup('va-1')!;
    expect(b).toMatchObject({ contact: 'sip:abc@df7jal23ls0d.invalid;transport=ws', flow: { transport: 'udp' }, destination: { transport: 'udp', address: '127.0.0.1' } });
    // SHA-256, a second contact by agent id as username; the nc on a fresh nonce starts again.
    const ch2 = await send();
    const ok2 = await send({ auth: answer(ch2, 'pw1', { algorithm: 'SHA-256', username: 'va-1' }), contact: '<sip:second@h.invalid;transport=ws>' });
    expect(ok2.status).toBe(200);
    expect(ok2.headers.getAll('Contact')).toHaveLength(2);
    expect(reg.lookup('va-1')!.contact).toBe('sip:second@h.invalid;transport=ws');
    // A query (no Contact) lists without changing.
    const q = await send({ auth: answer(ch2, 'pw1', { nc: '00000002' }), contact: '' });
    expect(q.status).toBe(200);
    expect(q.headers.getAll('Contact')).toHaveLength(2);
  });

  it('refuses: unknown AOR 404, no sipPassword 403, wrong password 401 then 403 after too many', async () => {
    const { send, reg } = await setup({ maxFailures: 2 });
    const unknown = await send({ user: '+18990009999' });
    expect(`${unknown.status} ${unknown.reason}`).toBe('404 No virtual agent at +18990009999 on profile wsp');
    const noPw = await send({ user: '18990000002' });
    expect(`${noPw.status} ${noPw.reason}`).toBe('403 Virtual agent va-2 does not accept registrations');
    let ch = await send();
    for (let i = 0; i < 2; i++) {
      const r = await send({ auth: answer(ch, 'nope') });
      expect(`${r.status} ${r.reason}`).toBe('401 Wrong credentials for virtual agent va-1');
      expect(r.headers.getAll('WWW-Authenticate')).toHaveLength(2);
      ch = r;
    }
    const locked = await send({ auth: answer(ch, 'pw1') });
    expect(`${locked.status} ${locked.reason}`).toBe('403 Too many failed registrations for virtual agent va-1; try again later');
    expect(reg.lookup('va-1')).toBeUndefined();
    const wrongUser = await send({ user: '+18990000001', auth: answer(ch, 'pw1', { username: 'va-2' }) });
    expect(wrongUser.status).toBe(403);
  });

  it('expired nonce: 401 stale=true; replayed nc: new challenge; uri mismatch: 400', async () => {
    const { send, clock } = await setup();
    const ch = await send();
    clock.advance(300_001);
    const stale = await send({ auth: answer(ch, 'pw1') });
    expect(stale.status).toBe(401);
    expect(stale.headers.get('WWW-Authenticate')).toContain('stale=true');
    const fresh = await send();
    expect((await send({ auth: answer(fresh, 'pw1') })).status).toBe(200);
    const replay = await send({ auth: answer(fresh, 'pw1') });
    expect(`${replay.status} ${replay.reason}`).toBe('401 Digest nc reused');
    const badUri = await send({ auth: answer(fresh, 'pw1', { nc: '00000005', uri: 'sip:elsewhere' }) });
    expect(`${badUri.status} ${badUri.reason}`).toBe('400 Digest uri does not match the Request-URI');
  });

  it('Expires: 423 below 60, clamped to 3600, bindings expire, Contact * removes all', async () => {
    const { send, reg, clock } = await setup();
    const changes: boolean[] = [];
    reg.onChange((_a, r) => changes.push(r));
    const ch = await send();
    let nc = 0;
    const auth = () => answer(ch, 'pw1', { nc: (++nc).toString(16).padStart(8, '0') });
    const brief = await send({ auth: auth(), expires: '30' });
    expect(`${brief.status} ${brief.reason}`).toBe('423 Interval Too Brief');
    expect(brief.headers.get('Min-Expires')).toBe('60');
    const long = await send({ auth: auth(), contact: '<sip:a@x.invalid>;expires=99999' });
    expect(long.headers.get('Contact')).toBe('<sip:a@x.invalid>;expires=3600');
    await send({ auth: auth(), contact: '<sip:b@x.invalid>', expires: '60' });
    clock.advance(60_000);
    expect(reg.bindings('va-1').map((b) => b.contact)).toEqual(['sip:a@x.invalid']);
    const bad = await send({ auth: auth(), contact: '*', expires: '5' });
    expect(`${bad.status} ${bad.reason}`).toBe("400 Contact '*' requires Expires: 0");
    const all = await send({ auth: auth(), contact: '*', expires: '0' });
    expect(all.status).toBe(200);
    expect(all.headers.has('Contact')).toBe(false);
    expect(reg.lookup('va-1')).toBeUndefined();
    expect(changes).toEqual([true, false]);
    // Re-register, then let it lapse.
    await send({ auth: auth(), expires: '60' });
    clock.advance(60_000);
    expect(reg.lookup('va-1')).toBeUndefined();
    expect(changes).toEqual([true, false, true, false]);
  });

  it('an out-of-order CSeq within one Call-ID gets 500; removing one contact with expires=0', async () => {
    const { send, reg } = await setup();
    const ch = await send({ cseq: 10 });
    expect((await send({ auth: answer(ch, 'pw1'), cseq: 20 })).status).toBe(200);
    const old = await send({ auth: answer(ch, 'pw1', { nc: '00000002' }), cseq: 15 });
    expect(old.status).toBe(500);
    const off = await send({ auth: answer(ch, 'pw1', { nc: '00000003' }), cseq: 21, contact: '<sip:abc@df7jal23ls0d.invalid;transport=ws>;expires=0' });
    expect(off.status).toBe(200);
    expect(reg.lookup('va-1')).toBeUndefined();
  });
});

describe('Registrar: softphone tokens (RFC 8898 Bearer)', () => {
  // A platform's verifier: 'tok-<name>' names <name>; anything else is refused with its reason.
  const bearer = async (t: string): Promise<string> => {
    if (!t.startsWith('tok-')) throw new Error('signature verification failed');
    return t.slice(4);
  };

  it('binds an agent without a SIP password on a valid token naming it; the challenge offers Bearer first', async () => {
    const { send, reg } = await setup({ bearer });
    const ch = await send({ user: '+18990000002' });
    expect(ch.status).toBe(401);
    expect(ch.headers.getAll('WWW-Authenticate')).toEqual(['Bearer realm="wsp"']);
    const ok = await send({ user: '+18990000002', auth: 'Bearer tok-va-2' });
    expect(ok.status).toBe(200);
    expect(reg.lookup('va-2')).toBeDefined();
  });

  it('a token for another agent: 403; a token that does not verify: 401 with error="invalid_token"', async () => {
    const { send, reg } = await setup({ bearer });
    const other = await send({ user: '+18990000002', auth: 'Bearer tok-va-1' });
    expect([other.status, other.reason]).toEqual([403, 'The token is for va-1, not virtual agent va-2']);
    const bad = await send({ user: '+18990000002', auth: 'Bearer forged.token.value' });
    expect(bad.status).toBe(401);
    expect(bad.reason).toContain('signature verification failed');
    expect(bad.headers.getAll('WWW-Authenticate')).toEqual(['Bearer realm="wsp", error="invalid_token"']);
    expect(reg.lookup('va-2')).toBeUndefined();
  });

  it('digest still works beside it: the challenge lists Bearer, then the digest algorithms with MD5 last', async () => {
    const { send } = await setup({ bearer });
    const ch = await send();
    const list = ch.headers.getAll('WWW-Authenticate');
    expect(list[0]).toBe('Bearer realm="wsp"');
    expect(list.at(-1)).toMatch(/algorithm=MD5/);
    const ok = await send({ auth: answer(ch, 'pw1', { algorithm: 'MD5' }) });
    expect(ok.status).toBe(200);
  });
});
