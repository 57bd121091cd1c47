/**
 * Softphone tokens (the adapter's access-token endpoint): a short-lived JWT (HS256, the gateway's
 * key) naming the agent's logon name, which the gateway's SIP-over-WebSocket side accepts in
 * place of digest credentials. `jose` signs and verifies: issuer, audience, expiry and algorithm
 * are all checked, so a token for another audience or signed with `none` is refused.
 */
import { jwtVerify, SignJWT } from 'jose';

const ISSUER = 'vagw';
const AUDIENCE = 'vagw-softphone';

export class SoftphoneTokens {
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly ttlSeconds: number) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(agentLogonName: string): Promise<{ token: string; expiresAt: number }> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(agentLogonName).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt(now).setExpirationTime(now + this.ttlSeconds).sign(this.key);
    return { token, expiresAt: now + this.ttlSeconds };
  }

  /** The agent logon name the token was issued for; throws with the reason when it is not valid. */
  async verify(token: string): Promise<string> {
    const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('the token names no agent');
    return payload.sub;
  }
}
