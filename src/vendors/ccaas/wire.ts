/**
 * The adapter endpoints' bodies as the platform's softphone sends them (the BYOV tutorial:
 * accept, end, hold, resume, mute, unmute, access token), checked field by field, and the
 * participant events the voice provider publishes back. A body that does not match gets the
 * reason naming the field.
 */

export type AdapterOp = 'accept' | 'end' | 'hold' | 'resume' | 'mute' | 'unmute' | 'token';
export const ADAPTER_OPS: readonly AdapterOp[] = ['accept', 'end', 'hold', 'resume', 'mute', 'unmute', 'token'];

export interface Author {
  userName: string;
  participantId: string;
}

export type AdapterRequest =
  | { op: 'accept'; conversationId: string; author: Author }
  | { op: 'end'; conversationId: string; participantId: string; removeAllParticipants: boolean; author: Author }
  | { op: 'hold' | 'resume' | 'mute' | 'unmute'; conversationId: string; participantId: string; author: Author }
  | { op: 'token'; agentLogonName: string };

export class BadRequest extends Error {}

const ID = /^[A-Za-z0-9._:@-]{1,128}$/;

function str(o: Record<string, unknown>, k: string, where = ''): string {
  const v = o[k];
  if (typeof v !== 'string' || !ID.test(v)) throw new BadRequest(`${where}${k} must be an id (1-128 of A-Z a-z 0-9 . _ : @ -)`);
  return v;
}

function author(o: Record<string, unknown>): Author {
  const a = o['author'];
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new BadRequest('author must be an object with userName and participantId');
  const r = a as Record<string, unknown>;
  return { userName: str(r, 'userName', 'author.'), participantId: str(r, 'participantId', 'author.') };
}

/** The request of `op` from its JSON text; throws BadRequest with the reason. */
export function parseAdapterRequest(op: AdapterOp, text: string): AdapterRequest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BadRequest('the body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadRequest('the body must be a JSON object');
  const o = v as Record<string, unknown>;
  if (op === 'token') return { op, agentLogonName: str(o, 'agentLogonName') };
  const conversationId = str(o, 'conversationId');
  if (op === 'accept') return { op, conversationId, author: author(o) };
  const participantId = str(o, 'participantId');
  if (op === 'end') {
    const all = o['removeAllParticipants'];
    if (typeof all !== 'boolean') throw new BadRequest('removeAllParticipants must be true or false');
    return { op, conversationId, participantId, removeAllParticipants: all, author: author(o) };
  }
  return { op, conversationId, participantId, author: author(o) };
}

/** The participant events of a voice call (the platform's Kafka event types). */
export type ParticipantEventType = 'PARTICIPANT_CALL_INITIATED' | 'PARTICIPANT_CALL_COMPLETED';

export interface ParticipantEvent {
  /** Deterministic: the same transition always has the same id, so a consumer can drop a redelivery. */
  eventId: string;
  type: ParticipantEventType;
  conversationId: string;
  participantId: string;
  userName: string;
  /** Per conversation, from 1: the order the gateway made the transitions in. */
  sequence: number;
  occurredAt: string;
  /** PARTICIPANT_CALL_COMPLETED: how the call ended (the term code) and whether everyone left. */
  outcome?: string;
  removeAllParticipants?: boolean;
}
