/**
 * The wrap-up every platform so far wants: for a call the platform routed (its ids carry the
 * platform's call id under `key`), the disposition, then Ready; a call it never routed (SIPp
 * straight at the gateway) has nothing to put a disposition on, and the agent only goes back to
 * Ready. An unanswered routed call still gets its disposition: the platforms hold the agent in
 * wrap-up until they have one.
 */
import type { ContactCenterPolicy, WrapStep } from './types.js';

export function dispositionThenReady(key: string): Pick<ContactCenterPolicy, 'isPlatformCall' | 'sameCall' | 'wrapUpPlan'> {
  const isPlatformCall: ContactCenterPolicy['isPlatformCall'] = (ids) => !!ids[key];
  return {
    isPlatformCall,
    sameCall: (a, b) => isPlatformCall(a) && a[key] === b[key],
    wrapUpPlan: ({ callId, agentId, ids, termCode }): WrapStep[] => {
      const ready: WrapStep = { kind: 'ready', agentId, callId };
      return isPlatformCall(ids) ? [{ kind: 'termCode', agentId, callId, ids, termCode }, ready] : [ready];
    },
  };
}
