/**
 * The voice adapter endpoints the platform's softphone calls (`POST <adapterPath>/<op>`), with the
 * tutorial's request and response shapes (`{"status":"Success"}`; the token endpoint
 * `{"token": ...}`). Every request carries the platform's credential (`Authorization: Bearer
 * <adapterToken>`, compared in constant time; 401 without it). Each action goes through the
 * call's state machine; an action not possible now is refused with `{"status":"Failure",
 * "message"}` and a 4xx, never half done. A repeat of what already happened for the same
 * conversation and participant (an accept already accepted, an end of a call already ended, a
 * hold of a held call) is answered Success without doing it twice. Every refusal is logged with
 * the conversation id and counted.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { PluginHttpRequest, PluginHttpRoutes } from '../plugin.js';
import type { ActionOutcome } from '../types.js';
import type { CcaasAdapter } from './adapter.js';
import type { SoftphoneTokens } from './token.js';
import { ADAPTER_OPS, BadRequest, parseAdapterRequest, type AdapterOp, type AdapterRequest } from './wire.js';

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

const SUCCESS: Reply = { status: 200, body: { status: 'Success' } };
const failure = (status: number, message: string, headers?: Record<string, string>): Reply => ({ status, body: { status: 'Failure', message }, ...(headers ? { headers } : {}) });

function sameSecret(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function adapterRoutes(o: { prefix: string; token: string; adapter: CcaasAdapter; tokens: SoftphoneTokens; log: Logger }): PluginHttpRoutes {
  const { adapter, log } = o;
  const refuse = (r: Reply, why: Record<string, unknown>): Reply => {
    adapter.stats.refused++;
    log.warn({ ...why, status: r.status, reason: (r.body as { message: string }).message }, 'ccaas adapter request refused');
    return r;
  };
  const outcome = (oc: ActionOutcome, why: Record<string, unknown>): Reply => (oc.ok ? SUCCESS : refuse(failure(oc.status, oc.reason), why));

  async function run(req: AdapterRequest): Promise<Reply> {
    if (req.op === 'token') {
      if (!adapter.agentIdOf(req.agentLogonName)) return refuse(failure(404, `no agent with logon name ${req.agentLogonName} at this voice provider`), { agentLogonName: req.agentLogonName });
      const t = await o.tokens.issue(req.agentLogonName);
      return { status: 200, body: { token: t.token } };
    }
    const why = { op: req.op, conversationId: req.conversationId, userName: req.author.userName };
    const agentId = adapter.agentIdOf(req.author.userName);
    if (!agentId) return refuse(failure(404, `no agent with logon name ${req.author.userName} at this voice provider`), why);
    const ended = adapter.endedConversation(req.conversationId);
    const conv = adapter.conversationOf(agentId);
    if (req.op === 'accept') {
      if (conv?.conversationId === req.conversationId && conv.agentParticipantId === req.author.participantId) return SUCCESS;
      if (ended?.participantIds.has(req.author.participantId)) return refuse(failure(409, `conversation ${req.conversationId} has ended`), why);
      const undo = adapter.accepting(agentId, req.conversationId, req.author.participantId, req.author.userName);
      const oc = await adapter.act(agentId, req.conversationId, { kind: 'accept' });
      if (!oc.ok) {
        undo();
        return outcome(oc, why);
      }
      await adapter.accepted(req.conversationId, req.author.participantId, req.author.userName);
      log.info(why, 'ccaas: call accepted by the platform');
      return SUCCESS;
    }
    // Replays of anything for a conversation that is over: end is done already; others cannot apply.
    if (ended && ended.agentId === agentId) return req.op === 'end' ? SUCCESS : refuse(failure(409, `conversation ${req.conversationId} has ended`), why);
    if (!conv || conv.conversationId !== req.conversationId) return refuse(failure(404, `conversation ${req.conversationId} is not a call of agent ${req.author.userName}`), why);
    if (!conv.agentParticipantId) return refuse(failure(409, `conversation ${req.conversationId} has not been accepted`), why);
    const known = req.participantId === conv.agentParticipantId || !conv.customerParticipantId || req.participantId === conv.customerParticipantId;
    if (!known) return refuse(failure(404, `participant ${req.participantId} is not in conversation ${req.conversationId}`), why);
    // Hold/resume and mute/unmute set a state: asking for the state it is in is done already.
    const toggle = async (flag: 'held' | 'muted', want: boolean, kind: 'hold' | 'resume' | 'mute' | 'unmute'): Promise<Reply> => {
      if (conv[flag] === want) return SUCCESS;
      const oc = await adapter.act(agentId, req.conversationId, { kind });
      if (oc.ok) conv[flag] = want;
      return outcome(oc, why);
    };
    switch (req.op) {
      case 'end':
        conv.removeAllParticipants = req.removeAllParticipants;
        return outcome(await adapter.act(agentId, req.conversationId, { kind: 'end' }), why);
      case 'hold':
      case 'resume':
        return toggle('held', req.op === 'hold', req.op);
      case 'mute':
      case 'unmute':
        return toggle('muted', req.op === 'mute', req.op);
    }
  }

  return {
    prefix: o.prefix,
    async handle(req: PluginHttpRequest): Promise<Reply> {
      adapter.stats.requests++;
      const op = req.path.slice(o.prefix.length + 1) as AdapterOp;
      if (!ADAPTER_OPS.includes(op)) return refuse(failure(404, `no adapter endpoint ${req.path}; endpoints: ${ADAPTER_OPS.map((x) => `${o.prefix}/${x}`).join(', ')}`), { path: req.path });
      if (req.method !== 'POST') return refuse(failure(405, `${req.path} takes POST`, { allow: 'POST' }), { path: req.path });
      const auth = req.headers['authorization'];
      if (typeof auth !== 'string' || !auth.startsWith('Bearer ') || !sameSecret(auth.slice(7), o.token)) {
        return refuse(failure(401, 'missing or wrong credential (Authorization: Bearer <adapter token>)', { 'www-authenticate': 'Bearer realm="vagw-ccaas"' }), { path: req.path, remote: req.remote });
      }
      let parsed: AdapterRequest;
      try {
        parsed = parseAdapterRequest(op, req.body);
      } catch (e) {
        if (e instanceof BadRequest) return refuse(failure(400, e.message), { path: req.path });
        throw e;
      }
      return run(parsed);
    },
  };
}
