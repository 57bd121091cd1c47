/**
 * HS256 JWT that lets an engine refuse strangers: the gateway signs one per connection attempt
 * and sends it as `Authorization: Bearer <token>`. Built on node:crypto only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { StreamMeta } from './types.js';

export interface EngineTokenPayload {
  /** accountSid (gateway name). */
  iss: string;
  /** callSid. */
  sub: string;
  /** streamSid. */
  stream: string;
  /** agentId. */
  agent: string;
  iat: number;
  exp: number;
}

/** Lifetime of a token in seconds. */
export const ENGINE_TOKEN_TTL_S = 60;
/** Clock skew tolerated when checking `iat`, in seconds. */
const SKEW_S = 30;

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const sign = (input: string, secret: string): Buffer => createHmac('sha256', secret).update(input).digest();
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function signEngineToken(meta: StreamMeta, secret: string, nowSec = nowSeconds()): string {
  if (!secret) throw new Error('engine token: empty secret');
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload: EngineTokenPayload = {
    iss: meta.accountSid,
    sub: meta.callSid,
    stream: meta.streamSid,
    agent: meta.agentId,
    iat: nowSec,
    exp: nowSec + ENGINE_TOKEN_TTL_S,
  };
  const body = b64url(JSON.stringify(payload));
  return `${header}.${body}.${b64url(sign(`${header}.${body}`, secret))}`;
}

function parsePart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`engine token: ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`engine token: ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Returns the payload of a valid token; throws an Error whose message says why it is not. */
export function verifyEngineToken(token: string, secret: string, nowSec = nowSeconds()): EngineTokenPayload {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw new Error('engine token: not a JWT (expected three base64url parts)');
  }
  const [h, p, s] = parts as [string, string, string];
  const header = parsePart(h, 'header');
  if (header.alg !== 'HS256') throw new Error(`engine token: unsupported alg ${JSON.stringify(header.alg)}`);
  const expected = sign(`${h}.${p}`, secret);
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Error('engine token: bad signature');
  }
  const payload = parsePart(p, 'payload');
  for (const k of ['iss', 'sub', 'stream', 'agent'] as const) {
    if (typeof payload[k] !== 'string') throw new Error(`engine token: claim ${k} missing or not a string`);
  }
  for (const k of ['iat', 'exp'] as const) {
    if (typeof payload[k] !== 'number' || !Number.isFinite(payload[k])) {
      throw new Error(`engine token: claim ${k} missing or not a number`);
    }
  }
  const claims = payload as unknown as EngineTokenPayload;
  if (claims.exp <= nowSec) throw new Error(`engine token: expired at ${claims.exp} (now ${nowSec})`);
  if (claims.iat > nowSec + SKEW_S) throw new Error(`engine token: issued in the future (iat ${claims.iat}, now ${nowSec})`);
  return claims;
}
