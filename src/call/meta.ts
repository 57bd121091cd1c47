/**
 * What the engine is told about a call in `start.customParameters`: the agent, the numbers, the
 * SIP Call-ID and the contact center's own call ids, taken from the INVITE when the platform sends
 * them (LiveVox: X-transaction-id = callTransactionId, Session-ID = callSessionId).
 */
import { randomBytes } from 'node:crypto';
import type { Agent } from '../agents/pool.js';
import { parseNameAddr, parseUri } from '../sip/grammar.js';
import type { IncomingInvite } from '../sip/ua.js';
import type { StreamMeta } from '../../media/types.js';

const VENDOR_HEADERS: Record<string, string> = {
  'X-transaction-id': 'transactionId',
  'Session-ID': 'sessionId',
  'X-agent-login-id': 'agentLoginId',
};

function userOf(value: string | undefined): string {
  if (!value) return '';
  try {
    return parseUri(parseNameAddr(value).uri).user ?? '';
  } catch {
    return '';
  }
}

export function streamMeta(gateway: string, profile: string, agent: Agent, inv: IncomingInvite): StreamMeta {
  const h = inv.request.headers;
  const vendor: Record<string, string> = {};
  for (const [header, key] of Object.entries(VENDOR_HEADERS)) {
    const v = h.get(header);
    if (v) vendor[key] = v.slice(0, 256);
  }
  return {
    callSid: `CA${randomBytes(16).toString('hex')}`,
    streamSid: `MZ${randomBytes(16).toString('hex')}`,
    accountSid: gateway,
    sipCallId: inv.callId,
    agentId: agent.id,
    number: agent.number,
    caller: userOf(h.get('P-Asserted-Identity')) || userOf(h.get('From')),
    dnis: h.get('DNIS') ?? userOf(h.get('To')),
    profile,
    vendor,
    custom: {},
  };
}
