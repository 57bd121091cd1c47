/**
 * The CCaaS platform simulator (sandbox): partner API, conversations, and the softphone that rings
 * an agent's line through the shared SIP placer (with RTP) and presses its buttons on the voice
 * provider's adapter URLs. The provider's participant events come back on Kafka (a consumer of
 * the topic, when brokers are given) or on the webhook (`POST /__sim/events`), and are checked.
 */
import type { Logger } from 'pino';
import { PlacedLegs, type PlacedCall, type SandboxPlacer } from '../../sandbox/placer.js';
import type { ParticipantEvent } from '../wire.js';
import { TopicWatcher } from './kafka.js';
import { startCcaasSimServer, type SoftphoneActions } from './server.js';
import { CcaasState, SimError, type SimConversation } from './state.js';

export interface CcaasSimOptions {
  port?: number;
  partnerId: string;
  clientId: string;
  clientSecret: string;
  templateVersion: string;
  /** What the platform sends to the provider's adapter URLs. */
  adapterToken: string;
  agents: { userName: string; number: string }[];
  phoneNumbers: { id: string; number: string }[];
  kafka?: { brokers: string[]; topic: string };
  logger: Logger;
}

export interface CcaasSimulator {
  url: string;
  state: CcaasState;
  softphone: SoftphoneActions;
  /** The customer's SIP leg of a conversation while it is up. */
  leg(conversationId: string): PlacedCall | undefined;
  attachPlacer(p: SandboxPlacer): void;
  close(): Promise<void>;
}

/** How long the softphone keeps trying an accept the provider has no ringing call for yet. */
const ACCEPT_WAIT_MS = 3000;
const URL_OF = { accept: 'accept_call_url', end: 'end_call_url', 'end-all': 'end_call_url', hold: 'hold_call_url', resume: 'resume_call_url', mute: 'mute_call_url', unmute: 'unmute_call_url' } as const;

export async function startCcaasSimulator(o: CcaasSimOptions): Promise<CcaasSimulator> {
  const state = new CcaasState(o.partnerId, o.agents, o.phoneNumbers);
  const legs = new PlacedLegs();
  let placer: SandboxPlacer | undefined;
  const log = o.logger;

  const press: SoftphoneActions['press'] = async (c, op) => {
    const provider = state.providers.get(c.providerId);
    if (!provider) throw new SimError(409, `voice provider ${c.providerId} is gone`);
    const author = { userName: c.agent, participantId: c.agentParticipantId };
    const body = op === 'accept' ? { conversationId: c.conversationId, author } : op === 'end' || op === 'end-all' ? { conversationId: c.conversationId, removeAllParticipants: op === 'end-all', participantId: c.agentParticipantId, author } : { conversationId: c.conversationId, participantId: c.customerParticipantId, author };
    const r = await fetch(provider[URL_OF[op]], { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${o.adapterToken}` }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    const answer = { status: r.status, body: (await r.json().catch(() => null)) as unknown };
    if (r.status === 200 && op === 'accept') state.accepted(c);
    if (r.status === 200 && (op === 'end' || op === 'end-all')) state.ended(c, 'platform');
    return answer;
  };

  const softphone: SoftphoneActions = {
    call: async (req) => {
      if (!placer || placer.isClosed) throw new SimError(503, 'the sandbox has no SIP placer yet (the gateway is not attached)');
      const { conversation: c, agentNumber } = state.route(req);
      const leg = placer.place({ number: agentNumber, caller: '+13125550100', headers: { 'X-Conversation-Id': c.conversationId, 'X-Participant-Id': c.customerParticipantId }, audio: { toneHz: 440 } });
      legs.track(c.conversationId, leg, (end) => state.ended(c, end.by === 'gateway' ? 'gateway' : end.by === 'customer' ? 'customer' : 'failed'));
      if (req.accept === false) return c;
      // The agent's softphone accepts once its line rings at the provider (the INVITE arrived there).
      const until = Date.now() + ACCEPT_WAIT_MS;
      for (;;) {
        const r = await press(c, 'accept');
        if (r.status === 200) break;
        if (r.status !== 404 || Date.now() > until || c.state !== 'ringing') {
          log.warn({ conversationId: c.conversationId, status: r.status, body: r.body }, 'ccaas sim: the provider refused the accept');
          break;
        }
        await new Promise((res) => setTimeout(res, 25));
      }
      return c;
    },
    press,
    hangup: (c: SimConversation) => legs.hangup(c.conversationId),
    token: async (userName) => {
      const provider = [...state.providers.values()][0];
      if (!provider) throw new SimError(409, 'no voice provider is registered');
      const r = await fetch(provider.access_token_url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${o.adapterToken}` }, body: JSON.stringify({ agentLogonName: userName }), signal: AbortSignal.timeout(10_000) });
      return { status: r.status, body: (await r.json().catch(() => null)) as unknown };
    },
  };

  const server = await startCcaasSimServer(state, { ...(o.port ? { port: o.port } : {}), clientId: o.clientId, clientSecret: o.clientSecret, templateVersion: o.templateVersion, log, softphone });

  const watcher = o.kafka
    ? new TopicWatcher({
        ...o.kafka,
        group: `ccaas-sim-${server.port}`,
        log,
        onMessage: (value) => {
          try {
            state.event(JSON.parse(value) as ParticipantEvent);
          } catch (e) {
            log.warn({ err: (e as Error).message }, 'ccaas sim: an event on the topic is not JSON');
          }
        },
      })
    : undefined;
  await watcher?.start();

  return {
    url: server.url,
    state,
    softphone,
    leg: (id) => legs.get(id),
    attachPlacer: (p) => {
      placer = p;
    },
    close: async () => {
      await watcher?.close();
      await server.close();
    },
  };
}
