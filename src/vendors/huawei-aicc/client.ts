/**
 * The CC-Gateway client for the agents the gateway drives (`<baseUrl>/agentgateway/resource/...`).
 * - Sign-in keeps the Guid of `Set-GUID` per agent and sends it as `Guid` on every later request;
 *   a sign-in refused with 100-002 (signed in elsewhere) is repaired with forcelogin.
 * - A request refused because the session is gone (not signed in, or a Guid the platform no
 *   longer takes: the heartbeat rule, a platform restart) signs the agent in again and is sent
 *   once more.
 * - Network errors, timeouts and HTTP 5xx are retried with exponential backoff; a retcode other
 *   than "0" is a CcGatewayError naming the operation and the code.
 * - The event poll is held by the platform up to ~10 s: its own timeout is longer.
 */
import type { Logger } from 'pino';
import { CcGatewayError, guidOf, parsePoll, resultOf, RETCODE_SIGNED_IN_ELSEWHERE, signInBody, type PollAnswer, type SignIn } from './wire.js';

export interface CcClientOptions {
  baseUrl: string;
  /** Per request (default 5000 ms); the poll gets pollHoldMs + this. */
  timeoutMs?: number;
  /** Retries after a network error, timeout or 5xx (default 3). */
  retries?: number;
  /** How long the platform holds an empty poll (default 10 000 ms). */
  pollHoldMs?: number;
  log: Logger;
}

/** retcodes that mean the agent's session is gone: sign in again (the interfaces' error-code lists). */
const SESSION_GONE = new Set(['100-006', '000-003']);

export class CcGatewayClient {
  private readonly guids = new Map<string, string>();
  private readonly credentials = new Map<string, SignIn>();
  readonly stats = { requests: 0, retries: 0, signIns: 0, forceLogins: 0, reSignIns: 0 };
  /** The platform had dropped the agent's session and it was signed in again (it is busy now, not idle). */
  onSignedInAgain?: (agentId: string) => void;

  constructor(private readonly o: CcClientOptions) {}

  private url(path: string): string {
    return `${this.o.baseUrl.replace(/\/+$/, '')}/agentgateway/resource/${path}`;
  }

  /** One HTTP exchange with retries on transport errors and 5xx; the parsed body and headers. */
  private async send(op: string, method: string, path: string, headers: Record<string, string>, body: unknown, timeoutMs: number): Promise<{ body: unknown; headers: Headers }> {
    const retries = this.o.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      this.stats.requests++;
      let why: string;
      try {
        const r = await fetch(this.url(path), {
          method,
          headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await r.text();
        if (r.status < 500) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            throw new CcGatewayError(op, 'malformed', `HTTP ${r.status}, the body is not JSON`);
          }
          if (r.status >= 400) throw new CcGatewayError(op, `http-${r.status}`, typeof (parsed as { message?: unknown }).message === 'string' ? (parsed as { message: string }).message : '');
          return { body: parsed, headers: r.headers };
        }
        why = `HTTP ${r.status}`;
      } catch (e) {
        if (e instanceof CcGatewayError) throw e;
        why = (e as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (e as Error).message;
      }
      if (attempt >= retries) throw new CcGatewayError(op, 'unreachable', `${why} (${attempt + 1} attempts)`);
      this.stats.retries++;
      const wait = Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      this.o.log.warn({ op, attempt: attempt + 1, why, retryInMs: Math.round(wait) }, 'huawei-aicc: retrying');
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Sign in (PUT onlineagent/{id}); forcelogin when the account is signed in elsewhere. */
  async signIn(agentId: string, s: SignIn): Promise<void> {
    this.credentials.set(agentId, s);
    const body = signInBody(s);
    const t = this.o.timeoutMs ?? 5000;
    let r = await this.send('signIn', 'PUT', `onlineagent/${encodeURIComponent(agentId)}`, {}, body, t);
    try {
      resultOf('signIn', r.body);
    } catch (e) {
      if (!(e instanceof CcGatewayError) || e.retcode !== RETCODE_SIGNED_IN_ELSEWHERE) throw e;
      this.stats.forceLogins++;
      this.o.log.warn({ agent: agentId }, 'huawei-aicc: the agent was signed in on another session; taken over with forcelogin');
      r = await this.send('forceLogin', 'PUT', `onlineagent/${encodeURIComponent(agentId)}/forcelogin`, {}, body, t);
      resultOf('forceLogin', r.body);
    }
    const guid = guidOf(r.headers.get('set-guid') ?? undefined);
    if (!guid) throw new CcGatewayError('signIn', 'no-guid', 'the sign-in answer has no Set-GUID');
    this.guids.set(agentId, guid);
    this.stats.signIns++;
  }

  /** An agent request with its Guid; a session found gone is signed in again, once. */
  async call(agentId: string, op: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    for (let again = false; ; again = true) {
      const guid = this.guids.get(agentId);
      if (!guid) throw new CcGatewayError(op, 'not-signed-in', `agent ${agentId} has no session here`);
      const r = await this.send(op, method, path, { Guid: guid }, body, this.o.timeoutMs ?? 5000);
      try {
        return resultOf(op, r.body);
      } catch (e) {
        const creds = this.credentials.get(agentId);
        if (again || !creds || !(e instanceof CcGatewayError) || !SESSION_GONE.has(e.retcode)) throw e;
        this.stats.reSignIns++;
        this.o.log.warn({ agent: agentId, op, retcode: e.retcode }, 'huawei-aicc: session gone; signing in again');
        await this.signIn(agentId, creds);
        this.onSignedInAgain?.(agentId);
      }
    }
  }

  sayFree(agentId: string): Promise<unknown> {
    return this.call(agentId, 'sayFree', 'POST', `onlineagent/${encodeURIComponent(agentId)}/sayfree`);
  }

  sayBusy(agentId: string): Promise<unknown> {
    return this.call(agentId, 'sayBusy', 'POST', `onlineagent/${encodeURIComponent(agentId)}/saybusy`);
  }

  work(agentId: string): Promise<unknown> {
    return this.call(agentId, 'work', 'POST', `onlineagent/${encodeURIComponent(agentId)}/work`);
  }

  cancelWork(agentId: string): Promise<unknown> {
    return this.call(agentId, 'cancelWork', 'POST', `onlineagent/${encodeURIComponent(agentId)}/cancelwork`);
  }

  /** Whether the client holds a session (Guid) for the agent. */
  signedIn(agentId: string): boolean {
    return this.guids.has(agentId);
  }

  // ---- voice calls (voicecall/{agentid}/...)
  private voice(agentId: string, op: string, method: 'POST' | 'PUT' | 'DELETE', tail: string, body?: unknown): Promise<unknown> {
    return this.call(agentId, op, method, `voicecall/${encodeURIComponent(agentId)}/${tail}`, body);
  }

  answer(agentId: string, callid?: string): Promise<unknown> {
    return this.voice(agentId, 'answer', 'PUT', `answer${callid ? `?callid=${encodeURIComponent(callid)}` : ''}`);
  }

  hold(agentId: string): Promise<unknown> {
    return this.voice(agentId, 'hold', 'POST', 'hold');
  }

  getHold(agentId: string, callid: string): Promise<unknown> {
    return this.voice(agentId, 'getHold', 'POST', `gethold?callid=${encodeURIComponent(callid)}`);
  }

  mute(agentId: string, on: boolean): Promise<unknown> {
    return this.voice(agentId, on ? 'beginMute' : 'endMute', 'POST', on ? 'beginmute' : 'endmute');
  }

  /** devicetype: 1 skill queue, 2 agent, 3 IVR, 4 access code, 5 external number. */
  transfer(agentId: string, t: { devicetype: 1 | 2 | 3 | 4 | 5; address: string; mode?: number }): Promise<unknown> {
    return this.voice(agentId, 'transfer', 'POST', 'transfer', { devicetype: t.devicetype, address: t.address, mode: t.mode ?? 0 });
  }

  release(agentId: string): Promise<unknown> {
    return this.voice(agentId, 'release', 'DELETE', 'release');
  }

  async agentStatus(agentId: string): Promise<number> {
    const r = (await this.call(agentId, 'agentStatus', 'GET', `onlineagent/${encodeURIComponent(agentId)}/agentstatus`)) as { status?: unknown } | undefined;
    if (typeof r?.status !== 'number') throw new CcGatewayError('agentStatus', 'malformed', 'result.status is not a number');
    return r.status;
  }

  async logout(agentId: string): Promise<void> {
    if (!this.guids.has(agentId)) return;
    await this.call(agentId, 'logout', 'DELETE', `onlineagent/${encodeURIComponent(agentId)}/logout`);
    this.guids.delete(agentId);
  }

  /** One event poll: held by the platform while there is none. A session found gone is repaired first. */
  async poll(agentId: string): Promise<PollAnswer> {
    const guid = this.guids.get(agentId);
    if (!guid) return { kind: 'invalid', reason: `agent ${agentId} has no session here` };
    const r = await this.send('poll', 'GET', `agentevent/${encodeURIComponent(agentId)}`, { Guid: guid }, undefined, (this.o.pollHoldMs ?? 10_000) + (this.o.timeoutMs ?? 5000));
    const a = parsePoll(agentId, r.body);
    const code = a.kind === 'invalid' ? /retcode (\S+)/.exec(a.reason)?.[1] : undefined;
    const creds = this.credentials.get(agentId);
    if (code && SESSION_GONE.has(code) && creds) {
      this.stats.reSignIns++;
      this.o.log.warn({ agent: agentId, retcode: code }, 'huawei-aicc: the poll found the session gone; signing in again');
      await this.signIn(agentId, creds);
      this.onSignedInAgain?.(agentId);
    }
    return a;
  }
}
