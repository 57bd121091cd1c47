/**
 * The CCaaS simulator's HTTP side. The partner API as the tutorial gives it, strict:
 * `POST /partners/{partnerId}/voiceproviders` (Basic client credentials, RFC 7617; the
 * `x-resource-template-version` header; JSON) -> `{id}`; `GET|PUT .../voiceproviders/{id}` (read,
 * update: how `vagw ccaas register` stays idempotent); `POST /partners/{partnerId}/phonenumbers/
 * {phoneNumberId}` with `voice_provider_id_resource_uri`. The admin API the sandbox and tests use:
 * `GET /__sim/state`; `POST /__sim/calls {number?, agent?, accept?}` (a customer calls a number:
 * a conversation, the agent's line rung over SIP, then the softphone's accept); `POST
 * /__sim/conversations/{id}/{accept|end|end-all|hold|resume|mute|unmute|hangup}` (the softphone's
 * buttons, sent to the provider's URLs; hangup is the customer); `POST /__sim/events` (the webhook
 * sink). Bad input never ends it: every refusal names its reason.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import { startSimHttp, type SimHttp } from '../../sandbox/http.js';
import type { ParticipantEvent } from '../wire.js';
import { CcaasState, SimError, type SimConversation } from './state.js';

export interface SoftphoneActions {
  /** Ring and (unless `accept` is false) accept: the conversation as placed. */
  call(o: { number?: string; agent?: string; accept?: boolean }): Promise<SimConversation>;
  /** A softphone button: the provider's answer (status and body). */
  press(c: SimConversation, op: 'accept' | 'end' | 'end-all' | 'hold' | 'resume' | 'mute' | 'unmute'): Promise<{ status: number; body: unknown }>;
  hangup(c: SimConversation): void;
  /** The platform's softphone asks the provider for a token for this agent logon name. */
  token(userName: string): Promise<{ status: number; body: unknown }>;
}

const OPS = new Set(['accept', 'end', 'end-all', 'hold', 'resume', 'mute', 'unmute']);

export async function startCcaasSimServer(state: CcaasState, o: { port?: number; clientId: string; clientSecret: string; templateVersion: string; log: Logger; softphone: SoftphoneActions }): Promise<SimHttp> {
  const basic = `Basic ${Buffer.from(`${o.clientId}:${o.clientSecret}`).toString('base64')}`;
  const answer = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.writableEnded) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const partnerApi = (req: http.IncomingMessage, p: string[], body: Record<string, unknown>): unknown => {
    if (req.headers['authorization'] !== basic) throw new SimError(401, 'Authorization: Basic <client id:secret> is missing or wrong');
    const version = req.headers['x-resource-template-version'];
    if (typeof version !== 'string' || version === '') throw new SimError(400, 'the x-resource-template-version header is required');
    if (version !== o.templateVersion) throw new SimError(400, `template version ${version} is not supported (use ${o.templateVersion})`);
    if (req.method !== 'GET' && !String(req.headers['content-type'] ?? '').startsWith('application/json')) throw new SimError(415, 'Content-Type must be application/json');
    const [, partnerId, kind, id] = p;
    if (kind === 'voiceproviders' && !id && req.method === 'POST') return { id: state.createProvider(partnerId!, body).id };
    if (kind === 'voiceproviders' && id && req.method === 'GET') return state.provider(partnerId!, id);
    if (kind === 'voiceproviders' && id && req.method === 'PUT') return state.updateProvider(partnerId!, id, body);
    if (kind === 'phonenumbers' && id && req.method === 'POST') return state.associate(partnerId!, id, body);
    throw new SimError(404, `no partner API ${req.method} ${req.url}`);
  };

  const admin = async (req: http.IncomingMessage, p: string[], body: Record<string, unknown>): Promise<{ status: number; body: unknown }> => {
    if (req.method === 'GET' && p[1] === 'state') {
      const agents = state.agents.map((a) => ({ userName: a.userName, number: a.number, available: state.available(a.userName) }));
      return { status: 200, body: { providers: [...state.providers.values()], numbers: Object.fromEntries(state.numbers), agents, conversations: [...state.conversations.values()], events: state.eventStats } };
    }
    if (req.method === 'POST' && p[1] === 'events') {
      state.event(body as unknown as ParticipantEvent);
      return { status: 200, body: { status: 'Success' } };
    }
    if (req.method === 'POST' && p[1] === 'calls' && p.length === 2) {
      for (const k of ['number', 'agent']) if (body[k] !== undefined && typeof body[k] !== 'string') throw new SimError(400, `${k} must be a string`);
      if (body['accept'] !== undefined && typeof body['accept'] !== 'boolean') throw new SimError(400, 'accept must be true or false');
      const c = await o.softphone.call({ ...(body['number'] ? { number: body['number'] as string } : {}), ...(body['agent'] ? { agent: body['agent'] as string } : {}), ...(body['accept'] === false ? { accept: false } : {}) });
      return { status: 201, body: c };
    }
    if (req.method === 'POST' && p[1] === 'conversations' && p[2] && p[3]) {
      const c = state.conversation(p[2]);
      if (p[3] === 'hangup') {
        o.softphone.hangup(c);
        return { status: 200, body: { conversationId: c.conversationId } };
      }
      if (!OPS.has(p[3])) throw new SimError(404, `no softphone action ${p[3]}`);
      return o.softphone.press(c, p[3] as 'accept');
    }
    throw new SimError(404, `no admin route ${req.method} ${req.url}`);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, text: string): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    const p = path.split('/').filter(Boolean);
    let body: Record<string, unknown> = {};
    if (text) {
      try {
        const v: unknown = JSON.parse(text);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        body = v as Record<string, unknown>;
      } catch {
        return answer(res, 400, { message: 'the body is not a JSON object' });
      }
    }
    try {
      if (p[0] === '__sim') {
        const r = await admin(req, p, body);
        return answer(res, r.status, r.body);
      }
      if (p[0] === 'partners' && p.length >= 3) return answer(res, 200, partnerApi(req, p, body));
      return answer(res, 404, { message: `no resource at ${path}` });
    } catch (e) {
      if (e instanceof SimError) return answer(res, e.status, { message: e.message });
      throw e;
    }
  };

  return startSimHttp({ name: 'ccaas', ...(o.port ? { port: o.port } : {}), log: o.log, answer, tooLarge: { message: 'the body is over 64 KiB' }, failed: { message: 'simulator error' }, handle });
}
