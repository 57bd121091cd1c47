/**
 * Typed LiveVox REST client. One session per agent user: `login(user, password)` opens (or
 * reuses) it, every later call names the user and sends its `LV-Session`. A 401 on a session
 * call re-logs that user in once and repeats the call once. Failures are LiveVoxApiError
 * (a VendorError) saying which call failed and why. Passwords, the access token and session
 * ids are kept in memory only: never logged, never put in an error message.
 */
import pino, { type Logger } from 'pino';
import { LiveVoxApiError, LiveVoxHttp, type Exchange } from './http.js';
import type { AgentLine, AgentStatusResponse, TermCodeBody, LoginResponse, PhoneBooksResponse, ScreenPopResponse, ScreenPopRow, TermCodesResponse, WirePhoneBook } from './wire.js';

export { LiveVoxApiError } from './http.js';

/** Endpoints only third-party clients document: overridable per deployment. */
export interface UnofficialPaths {
  callEnd: string;
  hold: string;
  unhold: string;
  serviceLeave: string;
}

export interface LiveVoxClientOptions {
  /** e.g. https://api.livevox.com (per environment) or the simulator's url. */
  baseUrl: string;
  accessToken: string;
  clientName: string;
  /** Per attempt. Default 5000. */
  timeoutMs?: number;
  /** Extra attempts after a network error, timeout, 429 or 5xx. Default 3. */
  retries?: number;
  /** First backoff; doubles each retry, with jitter (x0.5..1). Default 200. */
  backoffMs?: number;
  logger?: Logger;
  fetch?: typeof fetch;
  /** Insert a version segment after the category, e.g. 'v6.0' -> /session/v6.0/login (older clients). */
  apiVersion?: string;
  /** Send booleans as the guide writes them ("true"/"false") instead of JSON booleans. Default false. */
  stringBooleans?: boolean;
  paths?: Partial<UnofficialPaths>;
  /** Jitter source; default Math.random. */
  random?: () => number;
}

/** The term-code request body (the LiveVox wire form). */
export type SetTermCodeInput = TermCodeBody;

export type TermCodeCategory = TermCodesResponse['termCodeCategories'][number];

interface Session {
  password: string;
  sessionId?: string;
  pending?: Promise<LoginResponse>;
}

const A = '/callControl/agent';

export class LiveVoxClient {
  private readonly http: LiveVoxHttp;
  private readonly sessions = new Map<string, Session>();
  private readonly paths: UnofficialPaths;
  private readonly version: string;
  private readonly stringBooleans: boolean;

  constructor(private readonly opts: LiveVoxClientOptions) {
    this.http = new LiveVoxHttp({
      baseUrl: opts.baseUrl,
      timeoutMs: opts.timeoutMs ?? 5000,
      retries: opts.retries ?? 3,
      backoffMs: opts.backoffMs ?? 200,
      logger: opts.logger ?? pino({ level: 'silent' }),
      fetch: opts.fetch ?? fetch,
      random: opts.random ?? Math.random,
    });
    this.paths = { callEnd: `${A}/customer/call/end`, hold: `${A}/customer/call/hold`, unhold: `${A}/customer/call/unhold`, serviceLeave: `${A}/service/leave`, ...opts.paths };
    this.version = opts.apiVersion ? `/${opts.apiVersion.replace(/^\/+|\/+$/g, '')}` : '';
    this.stringBooleans = opts.stringBooleans ?? false;
  }

  /** Open the user's session, or get the same one back while it is valid. */
  login(user: string, password: string): Promise<LoginResponse> {
    const s = this.sessions.get(user) ?? { password };
    s.password = password;
    this.sessions.set(user, s);
    if (!s.pending) {
      s.pending = this.loginNow(user, password)
        .then((r) => {
          s.sessionId = r.sessionId;
          return r;
        })
        .finally(() => delete s.pending);
    }
    return s.pending;
  }

  hasSession(user: string): boolean {
    return this.sessions.get(user)?.sessionId !== undefined;
  }

  /** Forget the user's session and password (LiveVox has no documented logout for agents). */
  forget(user: string): void {
    this.sessions.delete(user);
  }

  joinService(user: string, serviceId: string, phoneNumber: string): Promise<void> {
    return this.action(user, 'joinService', 'POST', `${A}/service/join`, undefined, { serviceId, phoneNumber });
  }
  leaveService(user: string): Promise<void> {
    return this.action(user, 'leaveService', 'POST', this.paths.serviceLeave);
  }
  ready(user: string): Promise<void> {
    return this.action(user, 'ready', 'POST', `${A}/status/ready`);
  }
  notReady(user: string, reasonCode?: string): Promise<void> {
    return this.action(user, 'notReady', 'POST', `${A}/status/notReady`, undefined, { reasonCode });
  }

  async status(user: string, stateChangedAfter = 0): Promise<AgentLine[]> {
    const r = (await this.call(user, 'status', 'POST', `${A}/status`, { stateChangedAfter: String(stateChangedAfter) })) as AgentStatusResponse | undefined;
    return r?.agentStatus?.lines ?? [];
  }

  async screenPop(user: string): Promise<ScreenPopRow[]> {
    const r = (await this.call(user, 'screenPop', 'GET', `${A}/screenpop`)) as ScreenPopResponse | undefined;
    return r?.screenPopRow ?? [];
  }

  async termCodes(user: string, serviceId: string): Promise<TermCodeCategory[]> {
    const r = (await this.call(user, 'termCodes', 'GET', `${A}/termCode`, undefined, { serviceId })) as TermCodesResponse | undefined;
    return r?.termCodeCategories ?? [];
  }

  setTermCode(user: string, t: SetTermCodeInput): Promise<void> {
    return this.action(user, 'setTermCode', 'PUT', `${A}/call/termCode`, { ...t, moveAgentToNotReady: this.bool(t.moveAgentToNotReady) });
  }

  async phoneBooks(user: string, serviceId: string): Promise<WirePhoneBook[]> {
    const r = (await this.call(user, 'phoneBooks', 'GET', `${A}/phonebook/ext`, undefined, { serviceId })) as PhoneBooksResponse | undefined;
    return r?.phoneBooks ?? [];
  }

  conferencePhonebook(user: string, phoneBookId: string, phoneBookContactId: string, lineNumber = 'ACD'): Promise<void> {
    return this.action(user, 'conferencePhonebook', 'POST', `${A}/conference/phonebook`, { phoneBookId, phoneBookContactId }, { lineNumber });
  }
  leaveConference(user: string): Promise<void> {
    return this.action(user, 'leaveConference', 'POST', `${A}/conference/leave`);
  }
  endCall(user: string): Promise<void> {
    return this.action(user, 'endCall', 'POST', this.paths.callEnd);
  }
  hold(user: string): Promise<void> {
    return this.action(user, 'hold', 'POST', this.paths.hold);
  }
  unhold(user: string): Promise<void> {
    return this.action(user, 'unhold', 'POST', this.paths.unhold);
  }
  updateContact(user: string, account: string, fields: Record<string, string>): Promise<void> {
    return this.action(user, 'updateContact', 'PUT', `/contact/contacts/${encodeURIComponent(account)}`, fields);
  }
  createContact(user: string, account: string, fields: Record<string, string>): Promise<void> {
    return this.action(user, 'createContact', 'POST', '/contact/contacts', { ...fields, account });
  }

  // ---- plumbing

  private bool(v: boolean): boolean | 'true' | 'false' {
    return this.stringBooleans ? (v ? 'true' : 'false') : v;
  }

  private path(p: string): string {
    return this.version ? p.replace(/^(\/[^/]+)/, `$1${this.version}`) : p;
  }

  private async loginNow(user: string, password: string): Promise<LoginResponse> {
    const body = { clientName: this.opts.clientName, userName: user, password, agent: this.stringBooleans ? 'true' : true };
    const r = await this.http.send({ op: 'login', method: 'POST', path: this.path('/session/login'), body, headers: { 'LV-Access': this.opts.accessToken } });
    const sessionId = (r as Partial<LoginResponse> | undefined)?.sessionId;
    if (typeof sessionId !== 'string' || !sessionId) {
      throw new LiveVoxApiError(`livevox login failed: POST ${this.path('/session/login')} -> no sessionId in the answer`, 'livevox login', false, 'POST', this.path('/session/login'));
    }
    return r as LoginResponse;
  }

  private async action(user: string, op: string, method: Exchange['method'], path: string, body?: unknown, query?: Exchange['query']): Promise<void> {
    await this.call(user, op, method, path, body, query);
  }

  /** A session call; on 401 the user logs in again (once) and the call is repeated once. */
  private async call(user: string, op: string, method: Exchange['method'], path: string, body?: unknown, query?: Exchange['query']): Promise<unknown> {
    const s = this.sessions.get(user);
    const p = this.path(path);
    if (!s) throw new LiveVoxApiError(`livevox ${op} failed: ${method} ${p} -> user ${user} has not logged in`, `livevox ${op}`, false, method, p);
    if (!s.sessionId) await this.login(user, s.password);
    const used = s.sessionId as string;
    const exchange = (sessionId: string): Exchange => ({ op, method, path: p, query, body, headers: { 'LV-Session': sessionId } });
    try {
      return await this.http.send(exchange(used));
    } catch (err) {
      if (!(err instanceof LiveVoxApiError) || err.status !== 401) throw err;
      // Another call may have re-logged this user in already (or be doing it: login() shares it).
      if (s.sessionId === used) delete s.sessionId;
      const fresh = s.sessionId ?? (await this.login(user, s.password)).sessionId;
      return this.http.send(exchange(fresh));
    }
  }
}
