/**
 * What the engine is told about a call in `start.customParameters`: the agent, the numbers, the
 * SIP Call-ID and the contact center's own call ids, taken from the INVITE when the platform sends
 * them (which headers carry them is the platform's policy).
 */
import { randomBytes } from 'node:crypto';
import type { Agent } from '../agents/pool.js';
import { parseNameAddr, parseUri } from '../sip/grammar.js';
import type { IncomingInvite } from '../sip/ua.js';
import type { StreamMeta } from '../../media/types.js';
import type { ContactCenterPolicy, VendorCallIds } from '../vendors/types.js';

function userOf(value: string | undefined): string {
  if (!value) return '';
  try {
    return parseUri(parseNameAddr(value).uri).user ?? '';
  } catch {
    return '';
  }
}

/** Reads a platform's call ids from INVITE headers (a policy's, or every known platform's). */
export type IdsFromInvite = ContactCenterPolicy['idsFromInvite'];

/** The contact center's ids the INVITE carried, as its policy (or the fallback) reads them. */
export function vendorIdsFromInvite(inv: IncomingInvite, read?: IdsFromInvite): VendorCallIds {
  return read ? read((name) => inv.request.headers.get(name)) : {};
}

/** Vendor ids and screen-pop fields as flat `customParameters` (screen pop keys get `pop_`). */
export function customParams(ids: VendorCallIds, pop?: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ids)) if (v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(pop ?? {})) out[`pop_${k}`] = v;
  return out;
}

export function streamMeta(gateway: string, profile: string, agent: Agent, inv: IncomingInvite, read?: IdsFromInvite): StreamMeta {
  const h = inv.request.headers;
  const vendor = customParams(vendorIdsFromInvite(inv, read));
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
