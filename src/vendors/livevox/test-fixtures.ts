/** Shared by the LiveVox tests: a small contact center and a raw HTTP helper (no client logic). */
import { startLiveVoxSimulator, type LiveVoxSimulator, type LiveVoxSimulatorOptions } from './simulator/index.js';

export const TOKEN = 'test-access-token';
export const CLIENT = 'Training2';
export const SERVICE = '1001';

export function simOptions(over: Partial<LiveVoxSimulatorOptions> = {}): LiveVoxSimulatorOptions {
  return {
    accessToken: TOKEN,
    clientName: CLIENT,
    agents: [
      { user: 'va1', password: 'pw1' },
      { user: 'va2', password: 'pw2' },
    ],
    services: [
      {
        id: SERVICE,
        termCodes: [
          { id: '101', name: 'Completed', lvResult: 'AGENT - COMPLETED' },
          { id: '102', name: 'Transferred', lvResult: 'AGENT - TRANSFER', category: 'Transfers' },
          { id: '103', name: 'Caller Hung Up' },
        ],
        phonebooks: [
          { id: '2237', name: 'Humans', contacts: [{ id: '24590', name: 'Billing Team', phoneNumber: '3125550111' }, { id: '24591', name: 'Sales', phoneNumber: '3125550112' }] },
          { id: '2238', name: 'Supervisors', contacts: [{ id: '24600', name: 'Floor Lead', phoneNumber: '3125550120' }] },
        ],
      },
      { id: '1002', termCodes: [{ id: '201', name: 'Other Service Code' }], phonebooks: [] },
    ],
    conferenceJoinMs: 50,
    ...over,
  };
}

export function startSim(over: Partial<LiveVoxSimulatorOptions> = {}): Promise<LiveVoxSimulator> {
  return startLiveVoxSimulator(simOptions(over));
}

export interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
  code?: number;
  message?: string;
}

export interface RawOptions {
  session?: string;
  token?: string;
  body?: unknown;
  /** Raw body text (overrides body). */
  text?: string;
}

/** One raw request; the error body's code/message are lifted for terse assertions. */
export async function raw(sim: LiveVoxSimulator, method: string, path: string, o: RawOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (o.session !== undefined) headers['LV-Session'] = o.session;
  if (o.token !== undefined) headers['LV-Access'] = o.token;
  const text = o.text ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (text !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(sim.url + path, { method, headers, ...(text !== undefined ? { body: text } : {}) });
  const t = await res.text();
  const body = t ? (JSON.parse(t) as Record<string, unknown>) : undefined;
  const a: Answer = { status: res.status, body };
  if (body && typeof body['code'] === 'number') a.code = body['code'];
  if (body && typeof body['message'] === 'string') a.message = body['message'];
  return a;
}

export async function loginRaw(sim: LiveVoxSimulator, user = 'va1', password = 'pw1'): Promise<string> {
  const a = await raw(sim, 'POST', '/session/login', { token: TOKEN, body: { clientName: CLIENT, userName: user, password, agent: true } });
  if (a.status !== 200) throw new Error(`login failed: ${a.status} ${a.message ?? ''}`);
  return a.body?.['sessionId'] as string;
}

/** Logged in, joined with 8990000001 (va1) / 8990000002 (va2) and Ready. */
export async function readyAgent(sim: LiveVoxSimulator, user = 'va1'): Promise<string> {
  const s = await loginRaw(sim, user, user === 'va1' ? 'pw1' : 'pw2');
  const n = user === 'va1' ? '8990000001' : '8990000002';
  const j = await raw(sim, 'POST', `/callControl/agent/service/join?serviceId=${SERVICE}&phoneNumber=${n}`, { session: s });
  if (j.status !== 204) throw new Error(`join failed: ${j.status} ${j.message ?? ''}`);
  const r = await raw(sim, 'POST', '/callControl/agent/status/ready', { session: s });
  if (r.status !== 204) throw new Error(`ready failed: ${r.status} ${r.message ?? ''}`);
  return s;
}
