/**
 * The event loop of each signed-in agent: `GET agentevent/{agentid}`, held by the platform ~10 s
 * when there is nothing, then the next poll 200-500 ms later, as the interface asks. An answer
 * with an event is followed by the next poll at once: each answer carries one event, and a call's
 * events queue up (release, work, ready, the next Ringing); pausing after each would deliver the
 * next call's Ringing seconds after its INVITE. The poll is
 * also the heartbeat (no poll for 2 minutes signs the agent out), so the loop never stops while
 * the agent is signed in: a failed or stalled poll is tried again at once, then with a short
 * backoff while it keeps failing; a session found gone is signed in again by the client.
 * Each event is mapped to the boundary's inbound events.
 */
import type { Logger } from 'pino';
import type { InboundEvent, InboundSink } from '../types.js';
import type { CcGatewayClient } from './client.js';
import type { AgentEvent } from './wire.js';

/** The boundary's view of one CC-Gateway event, or null for one that asks nothing of the gateway. */
export function toInbound(agentId: string, ev: AgentEvent): InboundEvent | null {
  // `callid` in call events, `callId` in the phone-linkage events.
  const raw = ev.content['callid'] ?? ev.content['callId'];
  const callid = typeof raw === 'string' && raw !== '' ? raw : undefined;
  const ids = callid ? { callid } : undefined;
  switch (ev.eventType) {
    case 'AgentState_Ready':
      return { type: 'agent-state', agentId, state: 'ready' };
    case 'AgentState_Busy':
      return { type: 'agent-state', agentId, state: 'not-ready', reason: 'busy' };
    case 'AgentState_SetRest_Success':
      return { type: 'agent-state', agentId, state: 'not-ready', reason: 'rest' };
    case 'AgentState_Work':
      return { type: 'agent-state', agentId, state: 'wrap-up' };
    case 'AgentEvent_Talking':
      return { type: 'agent-state', agentId, state: 'in-call' };
    case 'AgentEvent_Hold':
    case 'AgentEvent_linkagePhoneHold':
      return { type: 'call-action', agentId, ...(ids ? { ids } : {}), action: { kind: 'hold' } };
    case 'AgentEvent_linkagePhoneUnHold':
      return { type: 'call-action', agentId, ...(ids ? { ids } : {}), action: { kind: 'resume' } };
    case 'AgentEvent_linkagePhoneMute':
      return { type: 'call-action', agentId, ...(ids ? { ids } : {}), action: { kind: 'mute' } };
    case 'AgentEvent_linkagePhoneUnMute':
      return { type: 'call-action', agentId, ...(ids ? { ids } : {}), action: { kind: 'unmute' } };
    case 'AgentEvent_Customer_Release':
    case 'AgentEvent_Call_Release':
      return { type: 'call-released', agentId, ...(ids ? { ids } : {}) };
    default:
      // AgentEvent_Ringing and the rest: the INVITE to the agent's phone carries the call.
      return null;
  }
}

export interface EventLoopStats {
  polls: number;
  events: number;
  failures: number;
  invalid: number;
}

export class AgentEventLoops {
  private readonly running = new Map<string, { stop: boolean }>();
  readonly stats: EventLoopStats = { polls: 0, events: 0, failures: 0, invalid: 0 };

  constructor(
    private readonly client: CcGatewayClient,
    private readonly sink: InboundSink,
    private readonly log: Logger,
    /** Pause between polls, ms (the interface asks for 200-500). */
    private readonly rePollMs: () => number = () => 200 + Math.floor(Math.random() * 300),
    /** Every event as received, before it is mapped (the adapter reads the call id of Ringing). */
    private readonly observe?: (agentId: string, ev: AgentEvent) => void,
  ) {}

  start(agentId: string): void {
    if (this.running.has(agentId)) return;
    const handle = { stop: false };
    this.running.set(agentId, handle);
    void this.loop(agentId, handle);
  }

  stop(agentId: string): void {
    const h = this.running.get(agentId);
    if (h) h.stop = true;
    this.running.delete(agentId);
  }

  stopAll(): void {
    for (const id of [...this.running.keys()]) this.stop(id);
  }

  get agents(): string[] {
    return [...this.running.keys()];
  }

  private async loop(agentId: string, h: { stop: boolean }): Promise<void> {
    let failures = 0;
    while (!h.stop) {
      let wait = this.rePollMs();
      try {
        this.stats.polls++;
        const a = await this.client.poll(agentId);
        failures = 0;
        if (a.kind === 'event') {
          wait = 0;
          this.stats.events++;
          this.observe?.(agentId, a.event);
          const ev = toInbound(agentId, a.event);
          if (ev) this.sink(ev);
        } else if (a.kind === 'invalid') {
          this.stats.invalid++;
          this.log.warn({ agent: agentId, reason: a.reason }, 'huawei-aicc: poll answer not used');
        }
      } catch (e) {
        // Retried at once, then backing off to 2 s: two minutes without a poll sign the agent out.
        this.stats.failures++;
        failures++;
        wait = failures === 1 ? 0 : Math.min(2000, 100 * 2 ** (failures - 2));
        this.log.warn({ agent: agentId, err: (e as Error).message, retryInMs: wait }, 'huawei-aicc: poll failed');
      }
      if (wait > 0 && !h.stop) await new Promise((r) => setTimeout(r, wait));
    }
  }
}
