/**
 * The CC-Gateway simulator's HTTP side: `/agentgateway/resource/...` as the interfaces give it
 * (JSON bodies `{message, retcode, result}`, the Guid in `Set-GUID` on sign-in and in `Guid` on
 * every later request), the event poll held until an event or `pollHoldMs` (10 s, as the platform
 * does), the voice interfaces (`voicecall/{agentid}/...`) over the call side (./calls.ts), and the
 * admin API the sandbox and the tests use: `GET /__sim/state`, `GET /__sim/calls`, `POST
 * /__sim/calls {skill?, agent?, caller?}` (a customer call), `POST /__sim/calls/{callid}/{hangup|
 * hold|unhold|mute|unmute}`, `POST /__sim/agents/{id}/signout`, `POST /__sim/faults`.
 * Seeded faults: a share of requests answered HTTP 503, latency, a share of polls dropped.
 * Bad input never ends it: a malformed body or an unknown path gets an answer that says why.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import { startSimHttp } from '../../sandbox/http.js';
import type { CcCalls } from './calls.js';
import type { PhoneRegistrar } from './phones.js';
import { CcGatewayState, RET, SimRefusal } from './state.js';

export interface CcSimFaults {
  /** Share of API requests (not polls) answered HTTP 503. */
  errorRate?: number;
  /** Added before every API answer, ms. */
  latencyMs?: number;
  /** Share of event polls whose connection is cut without an answer. */
  pollDropRate?: number;
  /** Latency and 503s only for these interfaces (the path's operation: `work`, `sayfree`, `answer`; `signin` for the sign-in). */
  only?: string[];
  seed?: number;
}

/** The admin API's faults body, checked: an unknown key or a wrong type is refused with the reason. */
export function parseFaults(b: Record<string, unknown>): CcSimFaults | string {
  for (const k of Object.keys(b)) if (!['errorRate', 'latencyMs', 'pollDropRate', 'only', 'seed'].includes(k)) return `unknown key '${k}'`;
  const share = (k: string): boolean => b[k] === undefined || (typeof b[k] === 'number' && b[k] >= 0 && b[k] <= 1);
  for (const k of ['errorRate', 'pollDropRate']) if (!share(k)) return `${k} must be a share from 0 to 1`;
  if (b['latencyMs'] !== undefined && !(typeof b['latencyMs'] === 'number' && b['latencyMs'] >= 0 && b['latencyMs'] <= 60_000)) return 'latencyMs must be ms from 0 to 60000';
  if (b['only'] !== undefined && !(Array.isArray(b['only']) && b['only'].every((x) => typeof x === 'string'))) return 'only must be a list of interface names';
  if (b['seed'] !== undefined && !Number.isInteger(b['seed'])) return 'seed must be an integer';
  return b as CcSimFaults;
}

export interface CcSimServer {
  url: string;
  port: number;
  setFaults(f: CcSimFaults): void;
  close(): Promise<void>;
}

const BASE = '/agentgateway/resource/';

function random(seed: number): () => number {
  let a = seed >>> 0 || 1;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

export async function startCcSimServer(state: CcGatewayState, o: { port?: number; pollHoldMs?: number; log: Logger; calls?: CcCalls; phones?: PhoneRegistrar }): Promise<CcSimServer> {
  const holdMs = o.pollHoldMs ?? 10_000;
  const waiting = new Map<string, Set<() => void>>();
  state.onEvent = (id) => {
    for (const wake of waiting.get(id) ?? []) wake();
  };
  let faults: CcSimFaults = {};
  let rnd = Math.random;
  const setFaults = (f: CcSimFaults): void => {
    faults = f;
    rnd = f.seed === undefined ? Math.random : random(f.seed);
  };

  const answer = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.writableEnded) return;
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const refuse = (res: http.ServerResponse, e: unknown): void => {
    if (e instanceof SimRefusal) return answer(res, 200, { message: e.message, retcode: e.retcode });
    throw e;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, text: string): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/__sim/')) return admin(req, res, url, text);
    if (!url.pathname.startsWith(BASE)) return answer(res, 404, { message: `no interface at ${url.pathname}`, retcode: RET.badParameter });
    const parts = url.pathname.slice(BASE.length).split('/');
    const guid = req.headers['guid'] as string | undefined;
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return answer(res, 200, { message: 'the body is not JSON', retcode: RET.badParameter });
      }
    }
    const [kind, id, op] = parts as [string, string | undefined, string | undefined];
    if (!id) return answer(res, 404, { message: 'no agent id in the path', retcode: RET.badParameter });
    try {
      if (kind === 'agentevent' && req.method === 'GET' && parts.length === 2) {
        if (faults.pollDropRate && rnd() < faults.pollDropRate) {
          res.destroy();
          return;
        }
        let ev = state.poll(id, guid);
        if (!ev) {
          // Held until an event or the hold time, as the CC-Gateway holds an empty poll.
          await new Promise<void>((resolve) => {
            const set = waiting.get(id) ?? new Set();
            waiting.set(id, set);
            const done = (): void => {
              clearTimeout(t);
              set.delete(done);
              resolve();
            };
            const t = setTimeout(done, holdMs);
            set.add(done);
            // The client gave up on the poll: stop holding it (req's 'close' fires once its body is read).
            res.once('close', done);
          });
          ev = state.poll(id, guid);
        }
        return answer(res, 200, { message: '', retcode: RET.ok, event: ev });
      }
      const faulty = !faults.only || faults.only.includes(op ?? (kind === 'onlineagent' ? 'signin' : kind));
      if (faulty && faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
      if (faulty && faults.errorRate && rnd() < faults.errorRate) return answer(res, 503, { message: 'injected fault', retcode: '503' });
      if (kind === 'voicecall' && o.calls) return voice(req, res, url, id, op, guid, body, o.calls);
      if (kind !== 'onlineagent') return answer(res, 404, { message: `no interface ${kind}`, retcode: RET.badParameter });
      const route = `${req.method} ${op ?? ''}`;
      switch (route) {
        case 'PUT ':
        case 'PUT forcelogin': {
          const r = state.signIn(id, body, op === 'forcelogin');
          return answer(res, 200, { message: 'success', retcode: RET.ok, result: r.result }, { 'Set-GUID': `JSESSIONID=${r.guid}; Path=/` });
        }
        case 'DELETE logout':
          state.logout(id, guid);
          return answer(res, 200, { message: 'success', retcode: RET.ok });
        case 'POST sayfree':
        case 'POST saybusy':
        case 'POST cancelbusy':
        case 'POST work':
        case 'POST cancelwork':
          state.setStatus(id, guid, op as 'sayfree');
          return answer(res, 200, { message: 'success', retcode: RET.ok });
        case 'GET agentstatus':
          return answer(res, 200, { message: 'success', retcode: RET.ok, result: state.agentStatus(id, guid) });
        default:
          return answer(res, 404, { message: `no interface ${req.method} onlineagent/{agentid}/${op ?? ''}`, retcode: RET.badParameter });
      }
    } catch (e) {
      refuse(res, e);
    }
  };

  const ok = (res: http.ServerResponse, result?: unknown): void => answer(res, 200, { message: 'success', retcode: RET.ok, ...(result !== undefined ? { result } : {}) });

  /** voicecall/{agentid}/...: the agent's call control. */
  const voice = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, id: string, op: string | undefined, guid: string | undefined, body: unknown, calls: CcCalls): void => {
    const callid = url.searchParams.get('callid');
    switch (`${req.method} ${op ?? ''}`) {
      case 'PUT answer':
        calls.answer(id, guid, callid);
        return ok(res);
      case 'POST hold':
        calls.hold(id, guid);
        return ok(res);
      case 'POST gethold':
        calls.getHold(id, guid, callid);
        return ok(res);
      case 'POST beginmute':
      case 'POST endmute':
        calls.mute(id, guid, op === 'beginmute');
        return ok(res);
      case 'POST transfer':
        calls.transfer(id, guid, body);
        return ok(res);
      case 'DELETE release':
        calls.releaseByAgent(id, guid);
        return ok(res);
      default:
        return answer(res, 404, { message: `no interface ${req.method} voicecall/{agentid}/${op ?? ''}`, retcode: RET.badParameter });
    }
  };

  /** The sandbox's own API (not the platform's): records, customer calls, faults. */
  const admin = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, text: string): void => {
    const p = url.pathname.slice('/__sim/'.length).split('/');
    let body: Record<string, unknown> = {};
    try {
      const v: unknown = text ? JSON.parse(text) : {};
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) body = v as Record<string, unknown>;
    } catch {
      return answer(res, 400, { error: 'the body is not JSON' });
    }
    const str = (k: string): string | undefined => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    const notString = ['skill', 'agent', 'caller'].find((k) => body[k] !== undefined && typeof body[k] !== 'string');
    if (notString) return answer(res, 400, { error: `${notString} must be a string` });
    try {
      if (req.method === 'GET' && p[0] === 'state') return answer(res, 200, { agents: state.snapshot(), phones: o.phones?.snapshot() ?? [], calls: [...(o.calls?.calls.values() ?? [])] });
      if (req.method === 'GET' && p[0] === 'calls' && p.length === 1) return answer(res, 200, { calls: [...(o.calls?.calls.values() ?? [])] });
      if (req.method === 'POST' && p[0] === 'faults') {
        const f = parseFaults(body);
        if (typeof f === 'string') return answer(res, 400, { error: `faults: ${f}` });
        setFaults(f);
        return answer(res, 200, faults);
      }
      if (req.method === 'POST' && p[0] === 'agents' && p[2] === 'signout' && p[1]) {
        state.forceSignOut(p[1]);
        return answer(res, 200, { agentId: p[1], status: state.statusOf(p[1]) });
      }
      if (req.method === 'POST' && p[0] === 'calls' && o.calls) {
        const skill = str('skill');
        const agent = str('agent');
        const caller = str('caller');
        if (p.length === 1) return answer(res, 200, o.calls.route({ ...(skill ? { skill } : {}), ...(agent ? { agent } : {}), ...(caller ? { caller } : {}) }));
        const [, callid, what] = p;
        if (what === 'hangup') return answer(res, 200, o.calls.customerHangup(callid!));
        if (what === 'hold' || what === 'unhold' || what === 'mute' || what === 'unmute') return answer(res, 200, o.calls.linkage(callid!, what));
      }
      return answer(res, 404, { error: `no admin route ${req.method} ${url.pathname}` });
    } catch (e) {
      if (e instanceof SimRefusal) return answer(res, 409, { error: e.message, retcode: e.retcode });
      throw e;
    }
  };

  const sim = await startSimHttp({ name: 'huawei-aicc', ...(o.port ? { port: o.port } : {}), log: o.log, answer, tooLarge: { message: 'the body is over 64 KiB', retcode: RET.badParameter }, failed: { message: 'simulator error', retcode: '500' }, handle });
  return {
    url: sim.url,
    port: sim.port,
    setFaults,
    close: () => {
      // Held polls end first: close() waits for every connection.
      for (const set of waiting.values()) for (const wake of set) wake();
      return sim.close();
    },
  };
}
