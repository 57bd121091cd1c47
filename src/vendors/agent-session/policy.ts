/**
 * The agent session protocol's answers to the call and agent layers: the platform's contact id
 * travels in the INVITE (`X-Contact-Id`); a call it routed is wrapped up with after-call work
 * (`notready {acw}` with the outcome) and then Ready; the call is answered at once (the platform
 * routed it to a ready agent); the WebSocket session needs no state cycle to stay alive; `ready`
 * is the only status that takes a call.
 */
import type { ContactCenterPolicy, VendorCallIds } from '../types.js';
import { dispositionThenReady } from '../wrap-plan.js';

export function idsFromInvite(header: (name: string) => string | undefined): VendorCallIds {
  const id = header('X-Contact-Id');
  return id ? { contactId: id.slice(0, 64) } : {};
}

export const agentSessionPolicy = (): ContactCenterPolicy => ({
  idsFromInvite,
  ...dispositionThenReady('contactId'),
  answer: 'immediately',
  keepAlive: { kind: 'none' },
  mayTakeCall: (state) => state === 'ready',
});
