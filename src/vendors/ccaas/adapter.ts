/**
 * The gateway as a CCaaS platform's voice provider. The platform does not drive agents through
 * us: its own routing and desktop decide, and call the adapter endpoints (./routes.ts) with a
 * conversation id and participant ids. So the agent lifecycle is local (a virtual agent is
 * available while it has no call; there is no platform presence API in the voice adapter
 * contract), the call's ids come from the INVITE (conversation, the customer's participant) and
 * from the accept (the agent's participant and logon name), and the disposition is the
 * `PARTICIPANT_CALL_COMPLETED` event, published through the durable event journal (./events.ts).
 */
import type { Logger } from 'pino';
import { VendorError, type ActionOutcome, type InboundEvent, type InboundSink, type PlatformAction, type VendorAdapter, type VendorAgent, type VendorAgentState, type VendorCallIds } from '../types.js';
import type { EventPublisher } from './events.js';

/** What the adapter knows of an agent's current conversation (from the INVITE and the accept). */
interface Conversation {
  conversationId: string;
  agentParticipantId?: string;
  /** The customer's participant (the INVITE's X-Participant-Id), once the call's ids resolved. */
  customerParticipantId?: string;
  userName: string;
  held: boolean;
  muted: boolean;
  /** Set by the platform's end request: recorded in the completion event. */
  removeAllParticipants?: boolean;
}

/** A conversation whose call is over: replays of its requests are answered from this. */
interface EndedConversation {
  agentId: string;
  participantIds: Set<string>;
  conversation: Conversation;
}

interface AgentEntry {
  agent: VendorAgent;
  state: VendorAgentState;
  conversation?: Conversation;
}

const RECENT_MAX = 2000;

export class CcaasAdapter implements VendorAdapter {
  readonly name = 'ccaas';
  readonly stats = { requests: 0, refused: 0, events: 0 };
  private readonly agents = new Map<string, AgentEntry>();
  private readonly byUser = new Map<string, string>();
  /** Conversations that ended, by id: a replayed end (or accept) is answered, not refused. */
  private readonly ended = new Map<string, EndedConversation>();
  private readonly sinks = new Set<InboundSink>();

  constructor(
    readonly events: EventPublisher,
    private readonly log: Logger,
  ) {}

  /** Every configured agent is known by its logon name before the lifecycle logs it in. */
  register(agent: VendorAgent): void {
    this.agents.set(agent.id, { agent, state: 'logged-out' });
    this.byUser.set(agent.user, agent.id);
  }

  agentIdOf(userName: string): string | undefined {
    return this.byUser.get(userName);
  }

  conversationOf(agentId: string): Conversation | undefined {
    return this.agents.get(agentId)?.conversation;
  }

  endedConversation(conversationId: string): EndedConversation | undefined {
    return this.ended.get(conversationId);
  }

  private entry(agentId: string): AgentEntry {
    const e = this.agents.get(agentId);
    if (!e) throw new VendorError(`ccaas: no agent ${agentId}`, 'ccaas', false, 404);
    return e;
  }

  async login(agent: VendorAgent): Promise<void> {
    if (!this.agents.has(agent.id)) this.register(agent);
    const e = this.entry(agent.id);
    if (e.state === 'logged-out') e.state = 'logged-in';
  }

  async ready(agentId: string): Promise<void> {
    const e = this.entry(agentId);
    e.state = 'ready';
    this.finish(e);
  }

  async notReady(agentId: string): Promise<void> {
    this.entry(agentId).state = 'not-ready';
  }

  async logout(agentId: string): Promise<void> {
    this.entry(agentId).state = 'logged-out';
  }

  async status(agentId: string): Promise<{ state: VendorAgentState; call?: VendorCallIds }> {
    const e = this.entry(agentId);
    return { state: e.conversation ? 'in-call' : e.state, ...(e.conversation ? { call: this.idsOf(e) } : {}) };
  }

  /** The INVITE's conversation (`hint`), completed with the agent participant of the accept. */
  async callIds(agentId: string, hint: VendorCallIds): Promise<VendorCallIds> {
    const e = this.entry(agentId);
    if (hint['conversationId'] && e.conversation?.conversationId !== hint['conversationId']) {
      e.conversation = { conversationId: hint['conversationId'], userName: e.agent.user, held: false, muted: false };
    }
    if (e.conversation && hint['customerParticipantId']) e.conversation.customerParticipantId = hint['customerParticipantId'];
    return { ...hint, ...(e.conversation ? this.idsOf(e) : {}) };
  }

  private idsOf(e: AgentEntry): VendorCallIds {
    const c = e.conversation!;
    return { conversationId: c.conversationId, userName: c.userName, ...(c.agentParticipantId ? { agentParticipantId: c.agentParticipantId } : {}) };
  }

  async screenPop(): Promise<Record<string, string>> {
    return {};
  }

  async transfer(agentId: string): Promise<void> {
    throw new VendorError(`ccaas transfer for agent ${agentId}: the voice adapter contract has no transfer; the platform's desktop transfers the conversation`, 'ccaas transfer', false);
  }

  /**
   * The disposition: `PARTICIPANT_CALL_COMPLETED` for the agent participant, on disk in the event
   * journal (delivered from there). A call the platform never accepted has no agent participant:
   * there is nothing to complete.
   */
  async setTermCode(agentId: string, ids: VendorCallIds, termCode: string): Promise<void> {
    const conversationId = ids['conversationId'];
    const e = this.agents.get(agentId);
    // Ready may come first (ccaasPolicy): the conversation is then among the ended ones.
    const c = !conversationId ? undefined : e?.conversation?.conversationId === conversationId ? e.conversation : this.ended.get(conversationId)?.conversation;
    const participantId = ids['agentParticipantId'] ?? c?.agentParticipantId;
    if (!conversationId || !participantId) return;
    await this.events.publish({
      type: 'PARTICIPANT_CALL_COMPLETED',
      conversationId,
      participantId,
      userName: ids['userName'] ?? e?.agent.user ?? agentId,
      outcome: termCode,
      ...(c?.removeAllParticipants !== undefined ? { removeAllParticipants: c.removeAllParticipants } : {}),
    });
    this.log.info({ agent: agentId, conversationId, participantId, termCode }, 'ccaas: PARTICIPANT_CALL_COMPLETED recorded');
  }

  async updateContact(agentId: string): Promise<void> {
    throw new VendorError(`ccaas updateContact for agent ${agentId}: the voice adapter contract has no contact records`, 'ccaas updateContact', false);
  }

  /** The call is over and wrapped up: the conversation is remembered as ended for replays. */
  private finish(e: AgentEntry): void {
    const c = e.conversation;
    if (!c) return;
    e.conversation = undefined;
    this.ended.set(c.conversationId, { agentId: e.agent.id, participantIds: new Set(c.agentParticipantId ? [c.agentParticipantId] : []), conversation: c });
    if (this.ended.size > RECENT_MAX) this.ended.delete(this.ended.keys().next().value!);
  }

  /** A platform action on the agent's call, through the call layer's state machine. */
  act(agentId: string, conversationId: string, action: PlatformAction): Promise<ActionOutcome> {
    return new Promise((resolve) => {
      const ev: InboundEvent = { type: 'call-action', agentId, ids: { conversationId }, action, respond: resolve };
      if (this.sinks.size === 0) return resolve({ ok: false, status: 409, reason: 'the gateway is not taking calls yet' });
      for (const s of this.sinks) s(ev);
    });
  }

  /**
   * The platform's accept is about to be applied: the agent participant is known from now on, so
   * the ids the call resolves once answered (callIds) carry it. Returns the undo for a refused
   * accept, which puts the agent's conversation back as it was (none, when the accept made it).
   */
  accepting(agentId: string, conversationId: string, participantId: string, userName: string): () => void {
    const e = this.entry(agentId);
    const was = e.conversation;
    if (was?.conversationId === conversationId) {
      const { agentParticipantId, userName: wasUser } = was;
      Object.assign(was, { agentParticipantId: participantId, userName });
      return () => {
        if (agentParticipantId === undefined) delete was.agentParticipantId;
        else was.agentParticipantId = agentParticipantId;
        was.userName = wasUser;
      };
    }
    const made: Conversation = { conversationId, agentParticipantId: participantId, userName, held: false, muted: false };
    e.conversation = made;
    return () => {
      if (e.conversation === made) e.conversation = was;
    };
  }

  /** The accept went through: the agent participant joined the conversation (INITIATED, once). */
  async accepted(conversationId: string, participantId: string, userName: string): Promise<void> {
    await this.events.publish({ type: 'PARTICIPANT_CALL_INITIATED', conversationId, participantId, userName });
  }

  counters(): Record<string, number> {
    return { requests: this.stats.requests, refused: this.stats.refused, eventsPublished: this.events.stats.published, eventsDelivered: this.events.stats.delivered, eventFailures: this.events.stats.failures, eventsPending: this.events.pending };
  }

  subscribe(sink: InboundSink): () => void {
    this.sinks.add(sink);
    return () => void this.sinks.delete(sink);
  }

  async close(): Promise<void> {
    await this.events.close();
  }
}
