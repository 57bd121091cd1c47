/**
 * The CCaaS voice adapter's answers to the call and agent layers: the INVITE carries the
 * conversation and the customer's participant (X-Conversation-Id, X-Participant-Id); the
 * platform decides when its agent takes the call (the accept endpoint), so the INVITE rings until
 * then; a call of a conversation is wrapped up with PARTICIPANT_CALL_COMPLETED, then Ready; there
 * is no platform session to keep alive.
 */
import type { ContactCenterPolicy, VendorCallIds } from '../types.js';
import { dispositionThenReady } from '../wrap-plan.js';

export function idsFromInvite(header: (name: string) => string | undefined): VendorCallIds {
  const conversationId = header('X-Conversation-Id');
  const customerParticipantId = header('X-Participant-Id');
  return { ...(conversationId ? { conversationId } : {}), ...(customerParticipantId ? { customerParticipantId } : {}) };
}

export const ccaasPolicy = (): ContactCenterPolicy => ({
  idsFromInvite,
  ...dispositionThenReady('conversationId'),
  answer: 'on-accept',
  keepAlive: { kind: 'none' },
  mayTakeCall: (state) => state === 'ready',
});
