import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signEngineToken, verifyEngineToken } from './token.js';
import type { StreamMeta } from './types.js';

const meta: StreamMeta = {
  callSid: 'CA0123456789abcdef0123456789abcdef', streamSid: 'MZ0123456789abcdef0123456789abcdef', accountSid: 'vagw-1',
  sipCallId: 'x@10.0.0.1', agentId: 'agent-7', number: '8990001', caller: '+15551230000', dnis: '8005550100',
  profile: 'default', vendor: {}, custom: {},
};
const NOW = 1_700_000_000;
const part = (t: string, i: number): unknown => JSON.parse(Buffer.from(t.split('.')[i]!, 'base64url').toString());

describe('engine token', () => {
  it('is an HS256 JWT with the stream claims and a 60 s lifetime', () => {
    const t = signEngineToken(meta, 'sekret', NOW);
    expect(part(t, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(part(t, 1)).toEqual({ iss: 'vagw-1', sub: meta.callSid, stream: meta.streamSid, agent: 'agent-7', iat: NOW, exp: NOW + 60 });
    const [h, p, s] = t.split('.');
    expect(s).toBe(createHmac('sha256', 'sekret').update(`${h}.${p}`).digest('base64url'));
    expect(verifyEngineToken(t, 'sekret', NOW + 59)).toMatchObject({ sub: meta.callSid, exp: NOW + 60 });
  });

  it('refuses a wrong secret, a tampered payload, expiry, the future and garbage, saying why', () => {
    const t = signEngineToken(meta, 'sekret', NOW);
    expect(() => verifyEngineToken(t, 'other', NOW)).toThrow('bad signature');
    const [h, , s] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ ...(part(t, 1) as object), agent: 'evil' })).toString('base64url');
    expect(() => verifyEngineToken(`${h}.${forged}.${s}`, 'sekret', NOW)).toThrow('bad signature');
    expect(() => verifyEngineToken(`${h}.${t.split('.')[1]}.${s!.slice(0, -2)}`, 'sekret', NOW)).toThrow('bad signature');
    expect(() => verifyEngineToken(t, 'sekret', NOW + 60)).toThrow(/expired/);
    expect(() => verifyEngineToken(t, 'sekret', NOW - 120)).toThrow(/future/);
    expect(() => verifyEngineToken('abc', 'sekret', NOW)).toThrow(/not a JWT/);
    expect(() => verifyEngineToken('a.b+c.d', 'sekret', NOW)).toThrow(/not a JWT/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${t.split('.')[1]}.`;
    expect(() => verifyEngineToken(none, 'sekret', NOW)).toThrow(/unsupported alg/);
    expect(() => signEngineToken(meta, '', NOW)).toThrow(/empty secret/);
  });

  it('checks claim types even when correctly signed', () => {
    const h = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    const p = Buffer.from(JSON.stringify({ iss: 'a', sub: 'b', stream: 'c', agent: 1, iat: NOW, exp: NOW + 60 })).toString('base64url');
    const s = createHmac('sha256', 'k').update(`${h}.${p}`).digest('base64url');
    expect(() => verifyEngineToken(`${h}.${p}.${s}`, 'k', NOW)).toThrow('claim agent missing or not a string');
  });
});
