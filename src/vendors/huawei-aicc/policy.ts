/**
 * Huawei AICC's answers to the call and agent layers: the platform rings the agent's registered
 * phone with no ids of its own in the INVITE (the call id comes with AgentEvent_Ringing); a call
 * it routed is wrapped up with `work` and then the agent made idle again; the phone answers at
 * once (auto-answer, as the agent signed in with); the event poll that never stops is the
 * heartbeat, so no state cycle is needed; only idle takes a call.
 */
import type { ContactCenterPolicy, VendorCallIds } from '../types.js';
import { dispositionThenReady } from '../wrap-plan.js';

export const idsFromInvite = (): VendorCallIds => ({});

export const huaweiAiccPolicy = (): ContactCenterPolicy => ({
  idsFromInvite,
  ...dispositionThenReady('callid'),
  answer: 'immediately',
  keepAlive: { kind: 'none' },
  mayTakeCall: (state) => state === 'ready',
});
