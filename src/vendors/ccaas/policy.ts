/**
 * The CCaaS voice adapter's answers to the call and agent layers: the INVITE carries the
 * conversation and the customer's participant (X-Conversation-Id, X-Participant-Id); the
 * platform decides when its agent takes the call (the accept endpoint), so the INVITE rings until
 * then; there is no platform session to keep alive. A call of a conversation is wrapped up with
 * Ready first, then PARTICIPANT_CALL_COMPLETED: Ready is ours alone (the voice adapter contract
 * has no presence), and the platform routes the agent's next call the moment it has the
 * completion, so the agent must already take calls then.
 */
import type { ContactCenterPolicy, VendorCallIds } from '../types.js';
import { dispositionThenReady } from '../wrap-plan.js';

export function idsFromInvite(header: (name: string) => string | undefined): VendorCallIds {
  const conversationId = header('X-Conversation-Id');
  const customerParticipantId = header('X-Participant-Id');
  return { ...(conversationId ? { conversationId } : {}), ...(customerParticipantId ? { customerParticipantId } : {}) };
}

const base = dispositionThenReady('conversationId');

export const ccaasPolicy = (): ContactCenterPolicy => ({
  idsFromInvite,
  isPlatformCall: base.isPlatformCall,
  sameCall: base.sameCall,
  wrapUpPlan: (input) => {
    const steps = base.wrapUpPlan(input);
    return [...steps.filter((s) => s.kind === 'ready'), ...steps.filter((s) => s.kind !== 'ready')];
  },
  answer: 'on-accept',
  keepAlive: { kind: 'none' },
  mayTakeCall: (state) => state === 'ready',
});
