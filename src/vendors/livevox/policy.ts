/**
 * LiveVox's answers to the questions the call and agent layers ask every platform (the
 * integration guide and ../shared/vendors/livevox.md): which INVITE headers carry its call ids,
 * the wrap-up order (term code, then Ready), answering at once (LiveVox has already routed the
 * call when it sends the INVITE), the hourly NotReady -> Ready cycle that keeps a session alive
 * (it expires after 2 h without a state change), and READY as the only state that takes calls.
 */
import type { ContactCenterConfig } from '../../config/types.js';
import { parseNameAddr, parseUri } from '../../sip/grammar.js';
import type { ContactCenterPolicy, VendorCallIds } from '../types.js';
import { dispositionThenReady } from '../wrap-plan.js';

/** INVITE headers LiveVox sends with a routed call [unofficial, seen in practice]. */
export const INVITE_HEADERS: Record<string, string> = {
  'X-transaction-id': 'transactionId',
  'Session-ID': 'sessionId',
  'X-agent-login-id': 'agentLoginId',
};

export function idsFromInvite(header: (name: string) => string | undefined): VendorCallIds {
  const out: VendorCallIds = {};
  for (const [name, key] of Object.entries(INVITE_HEADERS)) {
    const v = header(name);
    // Bounded: these are copied into logs, the engine's start message and the outbox.
    if (v) out[key] = v.slice(0, 256);
  }
  const dialed = customerNumber(header('P-Asserted-Identity')) ?? customerNumber(header('From'));
  if (out.transactionId && dialed) out.phoneDialed = dialed;
  return out;
}

/**
 * The customer's number as the term code's `phoneDialed` wants it (the guide's example: ten
 * digits, no country code): the user part of a name-addr, when it is a phone number.
 */
export function customerNumber(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const user = parseUri(parseNameAddr(value).uri).user ?? '';
    if (!/^\+?[0-9().-]{7,20}$/.test(user)) return undefined;
    const digits = user.replace(/\D/g, '');
    return digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  } catch {
    return undefined;
  }
}

export function livevoxPolicy(cc: ContactCenterConfig): ContactCenterPolicy {
  return {
    idsFromInvite,
    // The term code of a call LiveVox routed (X-transaction-id), then Ready; LiveVox holds the
    // agent in WRAPUP until it has the term code, even for a call that was never answered.
    ...dispositionThenReady('transactionId'),
    answer: 'immediately',
    keepAlive: { kind: 'state-cycle', everyMinutes: cc.keepAliveMinutes },
    mayTakeCall: (state) => state === 'ready',
  };
}
