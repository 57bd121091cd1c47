/**
 * The CCaaS platform's side of "bring your own voice adapter", strict: the voice provider registry
 * (unique names, all seven adapter URLs, the template version), the toll-free numbers associated
 * with a provider, the agents and the conversations routed to them, and a checker of every
 * participant event the provider sends back: known conversation and participant, INITIATED before
 * COMPLETED, one event per transition (a redelivered event id is counted, never applied twice),
 * sequence numbers growing per conversation.
 */
import { randomUUID } from 'node:crypto';
import type { ParticipantEvent } from '../wire.js';

export const PROVIDER_URL_KEYS = ['accept_call_url', 'end_call_url', 'hold_call_url', 'resume_call_url', 'mute_call_url', 'unmute_call_url', 'access_token_url'] as const;
export type ProviderUrls = Record<(typeof PROVIDER_URL_KEYS)[number], string>;

export interface Provider extends ProviderUrls {
  id: string;
  name: string;
  partnerId: string;
  updatedAt: number;
}

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface SimConversation {
  conversationId: string;
  number: string;
  providerId: string;
  agent: string;
  customerParticipantId: string;
  agentParticipantId: string;
  state: 'ringing' | 'accepted' | 'ended' | 'failed';
  startedAt: number;
  acceptedAt?: number;
  endedAt?: number;
  endedBy?: 'customer' | 'gateway' | 'platform' | 'failed';
  /** The events received for it, in arrival order (duplicates left out, counted below). */
  events: { type: string; participantId: string; sequence: number; at: number; outcome?: string; removeAllParticipants?: boolean }[];
  duplicates: number;
  /** Each rule an event broke, with the event id. */
  violations: string[];
}

const MAX_CONVERSATIONS = 10_000;

export class CcaasState {
  readonly providers = new Map<string, Provider>();
  /** Phone number id -> its number and the provider it is associated with. */
  readonly numbers = new Map<string, { number: string; providerId?: string }>();
  readonly conversations = new Map<string, SimConversation>();
  /** Agent logon name -> the conversation it is on (absent: available). */
  private readonly busy = new Map<string, string>();
  private readonly seen = new Set<string>();
  readonly eventStats = { received: 0, duplicates: 0, unknown: 0, violations: 0 };

  constructor(
    readonly partnerId: string,
    readonly agents: { userName: string; number: string }[],
    phoneNumbers: { id: string; number: string }[],
    readonly now: () => number = Date.now,
  ) {
    for (const p of phoneNumbers) this.numbers.set(p.id, { number: p.number });
  }

  createProvider(partnerId: string, body: Record<string, unknown>): Provider {
    this.partner(partnerId);
    const name = body['name'];
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200) throw new SimError(400, 'name is required (1-200 characters)');
    if ([...this.providers.values()].some((p) => p.name === name)) throw new SimError(409, `a voice provider named '${name}' exists`);
    const p: Provider = { id: randomUUID(), name, partnerId, updatedAt: this.now(), ...urls(body) };
    this.providers.set(p.id, p);
    return p;
  }

  updateProvider(partnerId: string, id: string, body: Record<string, unknown>): Provider {
    const p = this.provider(partnerId, id);
    const name = body['name'];
    if (typeof name !== 'string' || name.trim() === '') throw new SimError(400, 'name is required');
    if ([...this.providers.values()].some((x) => x.name === name && x.id !== id)) throw new SimError(409, `a voice provider named '${name}' exists`);
    Object.assign(p, { name, updatedAt: this.now(), ...urls(body) });
    return p;
  }

  provider(partnerId: string, id: string): Provider {
    this.partner(partnerId);
    const p = this.providers.get(id);
    if (!p || p.partnerId !== partnerId) throw new SimError(404, `no voice provider ${id}`);
    return p;
  }

  associate(partnerId: string, phoneNumberId: string, body: Record<string, unknown>): { id: string; number: string; providerId: string } {
    this.partner(partnerId);
    const n = this.numbers.get(phoneNumberId);
    if (!n) throw new SimError(404, `no phone number ${phoneNumberId}`);
    const uri = body['voice_provider_id_resource_uri'];
    const m = typeof uri === 'string' ? /^\/partners\/([^/]+)\/voiceproviders\/([^/]+)$/.exec(uri) : null;
    if (!m) throw new SimError(400, 'voice_provider_id_resource_uri must be /partners/{partnerId}/voiceproviders/{id}');
    this.provider(m[1]!, m[2]!);
    n.providerId = m[2]!;
    return { id: phoneNumberId, number: n.number, providerId: m[2]! };
  }

  private partner(partnerId: string): void {
    if (partnerId !== this.partnerId) throw new SimError(404, `no partner ${partnerId}`);
  }

  /** A customer calls a number: a conversation with the provider of the number and an available agent. */
  route(o: { number?: string; agent?: string }): { conversation: SimConversation; provider: Provider; agentNumber: string } {
    const entry = o.number ? [...this.numbers.values()].find((n) => n.number === o.number) : [...this.numbers.values()].find((n) => n.providerId);
    if (!entry) throw new SimError(404, o.number ? `no phone number ${o.number}` : 'no phone number is associated with a voice provider');
    if (!entry.providerId) throw new SimError(409, `phone number ${entry.number} has no voice provider`);
    const provider = this.providers.get(entry.providerId)!;
    const agent = this.agents.find((a) => (!o.agent || a.userName === o.agent) && !this.busy.has(a.userName));
    if (!agent) throw new SimError(409, o.agent ? `agent ${o.agent} is not available` : 'no agent is available');
    const c: SimConversation = {
      conversationId: randomUUID(),
      number: entry.number,
      providerId: provider.id,
      agent: agent.userName,
      customerParticipantId: randomUUID(),
      agentParticipantId: randomUUID(),
      state: 'ringing',
      startedAt: this.now(),
      events: [],
      duplicates: 0,
      violations: [],
    };
    this.conversations.set(c.conversationId, c);
    if (this.conversations.size > MAX_CONVERSATIONS) this.conversations.delete(this.conversations.keys().next().value!);
    this.busy.set(agent.userName, c.conversationId);
    return { conversation: c, provider, agentNumber: agent.number };
  }

  conversation(id: string): SimConversation {
    const c = this.conversations.get(id);
    if (!c) throw new SimError(404, `no conversation ${id}`);
    return c;
  }

  accepted(c: SimConversation): void {
    if (c.state === 'ringing') {
      c.state = 'accepted';
      c.acceptedAt = this.now();
    }
  }

  /** The call is over for the platform; the agent is available once its completion event came. */
  ended(c: SimConversation, by: NonNullable<SimConversation['endedBy']>): void {
    if (c.state === 'ended' || c.state === 'failed') return;
    c.state = by === 'failed' ? 'failed' : 'ended';
    c.endedAt = this.now();
    c.endedBy = by;
    // An accepted call keeps its agent until the provider's completion event: that is the wrap-up.
    if (c.acceptedAt === undefined || c.events.some((e) => e.type === 'PARTICIPANT_CALL_COMPLETED')) this.busy.delete(c.agent);
  }

  /** A participant event from the provider, checked against the conversation. */
  event(e: ParticipantEvent): void {
    this.eventStats.received++;
    if (this.seen.has(e.eventId)) {
      this.eventStats.duplicates++;
      const c = this.conversations.get(e.conversationId);
      if (c) c.duplicates++;
      return;
    }
    this.seen.add(e.eventId);
    const c = this.conversations.get(e.conversationId);
    if (!c) {
      this.eventStats.unknown++;
      return;
    }
    const broke = (rule: string): void => {
      this.eventStats.violations++;
      c.violations.push(`${e.eventId}: ${rule}`);
    };
    if (e.participantId !== c.agentParticipantId) broke(`participant ${e.participantId} is not the agent participant ${c.agentParticipantId}`);
    if (e.userName !== c.agent) broke(`userName ${e.userName} is not the conversation's agent ${c.agent}`);
    const last = c.events.at(-1);
    if (last && e.sequence <= last.sequence) broke(`sequence ${e.sequence} after ${last.sequence}`);
    if (e.type === 'PARTICIPANT_CALL_INITIATED' && c.events.length > 0) broke('INITIATED is not the first event');
    if (e.type === 'PARTICIPANT_CALL_COMPLETED' && !c.events.some((x) => x.type === 'PARTICIPANT_CALL_INITIATED')) broke('COMPLETED before INITIATED');
    if (e.type !== 'PARTICIPANT_CALL_INITIATED' && e.type !== 'PARTICIPANT_CALL_COMPLETED') broke(`unknown type ${String(e.type)}`);
    c.events.push({ type: e.type, participantId: e.participantId, sequence: e.sequence, at: this.now(), ...(e.outcome ? { outcome: e.outcome } : {}), ...(e.removeAllParticipants !== undefined ? { removeAllParticipants: e.removeAllParticipants } : {}) });
    if (e.type === 'PARTICIPANT_CALL_COMPLETED' && (c.state === 'ended' || c.state === 'failed')) this.busy.delete(c.agent);
  }

  available(userName: string): boolean {
    return !this.busy.has(userName);
  }
}

function urls(body: Record<string, unknown>): ProviderUrls {
  const out: Partial<ProviderUrls> = {};
  for (const k of PROVIDER_URL_KEYS) {
    const v = body[k];
    if (typeof v !== 'string' || !/^https?:\/\/[^\s/]+\/\S*$/.test(v)) throw new SimError(400, `${k} must be an http(s) URL`);
    out[k] = v;
  }
  return out as ProviderUrls;
}
