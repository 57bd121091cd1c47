/**
 * Decides whether an INVITE may become a call, and if not, which SIP refusal a carrier engineer
 * can act on. Pure: no I/O, so every refusal is unit-tested as a table.
 */
import type { AgentPool, LeaseResult } from '../agents/pool.js';
import { normalizeNumber } from '../config/numbers.js';
import type { SipProfile } from '../config/types.js';
import { unescapeUri } from '../sip/grammar.js';

import type { Refusal } from './state.js';

export type { Refusal };

export interface AdmissionState {
  trusted: boolean;
  draining: boolean;
  activeCalls: number;
  maxCalls: number;
  rateOk: boolean;
  retryAfterSeconds: number;
}

/** Checks that do not depend on the number: source, draining, limits (cheapest first). */
export function admit(profile: SipProfile, source: string, s: AdmissionState): Refusal | null {
  if (!s.trusted) return { status: 403, reason: `Source ${source} not trusted by profile ${profile.name}` };
  const retry = { 'Retry-After': String(s.retryAfterSeconds) };
  if (s.draining) return { status: 503, reason: 'Gateway draining for shutdown', headers: retry };
  if (s.activeCalls >= s.maxCalls) return { status: 503, reason: `Gateway at its limit of ${s.maxCalls} calls`, headers: retry };
  if (!s.rateOk) return { status: 503, reason: 'Gateway call rate limit exceeded', headers: retry };
  return null;
}

/** Request-URI user -> agent lease, or the refusal naming the agent and why. */
export type Lease = Extract<LeaseResult, { ok: true }>;

export function route(profile: SipProfile, pool: AgentPool, user: string, callId: string): Lease | Refusal {
  let key: string | null;
  try {
    key = normalizeNumber(unescapeUri(user), profile.numberNormalization);
  } catch {
    key = null;
  }
  if (!user || key === null) return { status: 404, reason: `No virtual agent number in Request-URI '${user.slice(0, 32)}'` };
  const lease = pool.lease(profile.name, key, callId);
  if (lease.ok) return lease;
  switch (lease.why) {
    case 'unknown':
      return { status: 404, reason: `No virtual agent at ${user.slice(0, 32)} on profile ${profile.name}` };
    case 'busy':
      return { status: 486, reason: `Virtual agent ${lease.agent!.id} is on another call` };
    case 'not-ready':
      return { status: 480, reason: `Virtual agent ${lease.agent!.id} is not ready` };
    case 'elsewhere':
      // 503: the call router in front (Kamailio's dispatcher) tries the next node.
      return { status: 503, reason: `Virtual agent ${lease.agent!.id} is served by another node` };
  }
}
