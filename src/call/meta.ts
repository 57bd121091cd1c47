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
import type { VendorCallIds } from '../vendors/types.js';

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

/** The contact center's ids the INVITE carried (LiveVox: X-transaction-id, Session-ID). */
export function vendorIdsFromInvite(inv: IncomingInvite): VendorCallIds {
  const out: VendorCallIds = {};
  for (const [header, key] of Object.entries(VENDOR_HEADERS)) {
    const v = inv.request.headers.get(header);
    if (v) out[key] = v.slice(0, 256);
  }
  return out;
}

/** Vendor ids and screen-pop fields as flat `customParameters` (screen pop keys get `pop_`). */
export function customParams(ids: VendorCallIds, pop?: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ids)) if (v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(pop ?? {})) out[`pop_${k}`] = v;
  return out;
}

export function streamMeta(gateway: string, profile: string, agent: Agent, inv: IncomingInvite): StreamMeta {
  const h = inv.request.headers;
  const vendor = customParams(vendorIdsFromInvite(inv));
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
