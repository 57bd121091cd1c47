import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT, loginRaw, raw, SERVICE, startSim, TOKEN } from '../test-fixtures.js';
import { LvCode } from '../wire.js';
import type { LiveVoxSimulator } from './index.js';

let sim: LiveVoxSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const login = (s: LiveVoxSimulator, body: unknown, token: string | null = TOKEN, path = '/session/login') =>
  raw(s, 'POST', path, { ...(token !== null ? { token } : {}), body });

describe('LiveVox simulator: session login', () => {
  it('requires the LV-Access token', async () => {
    sim = await startSim();
    const body = { clientName: CLIENT, userName: 'va1', password: 'pw1', agent: true };
    expect(await login(sim, body, null)).toMatchObject({ status: 401, code: LvCode.badAccessToken, message: 'missing LV-Access header' });
    expect(await login(sim, body, 'nope')).toMatchObject({ status: 401, message: 'invalid LV-Access token' });
  });

  it('answers 400 naming the missing or invalid field', async () => {
    sim = await startSim();
    expect(await login(sim, { userName: 'va1', password: 'pw1', agent: true })).toMatchObject({ status: 400, message: "missing field 'clientName'" });
    expect(await login(sim, { clientName: CLIENT, password: 'pw1', agent: true })).toMatchObject({ status: 400, message: "missing field 'userName'" });
    expect(await login(sim, { clientName: CLIENT, userName: 'va1', agent: true })).toMatchObject({ status: 400, message: "missing field 'password'" });
    expect(await login(sim, { clientName: CLIENT, userName: 'va1', password: 'pw1' })).toMatchObject({ status: 400, message: "missing field 'agent'" });
    expect((await login(sim, { clientName: CLIENT, userName: 'va1', password: 'pw1', agent: false })).message).toMatch(/invalid field 'agent'/);
    expect((await login(sim, { clientName: CLIENT, userName: 7, password: 'pw1', agent: true })).message).toMatch(/invalid field 'userName'/);
    expect(await raw(sim, 'POST', '/session/login', { token: TOKEN, text: '{nope' })).toMatchObject({ status: 400, message: 'body is not valid JSON' });
  });

  it('refuses bad credentials and unknown clients with 401', async () => {
    sim = await startSim();
    expect(await login(sim, { clientName: CLIENT, userName: 'va1', password: 'wrong', agent: true })).toMatchObject({ status: 401, code: LvCode.badCredentials });
    expect(await login(sim, { clientName: CLIENT, userName: 'ghost', password: 'pw1', agent: true })).toMatchObject({ status: 401, code: LvCode.badCredentials });
    expect(await login(sim, { clientName: 'Other', userName: 'va1', password: 'pw1', agent: true })).toMatchObject({ status: 401, message: "unknown client 'Other'" });
  });

  it('accepts agent "true" and the versioned path, and returns the same session while it is valid', async () => {
    sim = await startSim();
    const a = await login(sim, { clientName: CLIENT, userName: 'va1', password: 'pw1', agent: 'true' });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ userId: expect.any(Number), clientId: expect.any(Number), daysUntilPasswordExpires: expect.any(Number) });
    const b = await login(sim, { clientName: CLIENT, userName: 'va1', password: 'pw1', agent: true }, TOKEN, '/session/v6.0/login');
    expect(b.body?.['sessionId']).toBe(a.body?.['sessionId']);
    const other = await loginRaw(sim, 'va2', 'pw2');
    expect(other).not.toBe(a.body?.['sessionId']);
  });
});

describe('LiveVox simulator: LV-Session', () => {
  it('requires a valid session on every other call', async () => {
    sim = await startSim();
    expect(await raw(sim, 'POST', '/callControl/agent/status/ready')).toMatchObject({ status: 401, message: 'missing LV-Session header' });
    expect(await raw(sim, 'POST', '/callControl/agent/status/ready', { session: 'made-up' })).toMatchObject({ status: 401, code: LvCode.invalidSession, message: 'invalid session' });
  });

  it('expires a session after the idle window; every request renews it', async () => {
    let now = 1_700_000_000_000;
    sim = await startSim({ clock: () => now, sessionIdleMs: 60_000 });
    const s = await loginRaw(sim);
    const status = () => raw(sim as LiveVoxSimulator, 'POST', '/callControl/agent/status', { session: s, body: { stateChangedAfter: '0' } });
    now += 59_000;
    expect((await status()).status).toBe(200);
    now += 59_000; // 118 s after login, 59 s after the last request: still alive (rolling)
    expect((await status()).status).toBe(200);
    now += 60_001;
    expect(await status()).toMatchObject({ status: 401, code: LvCode.sessionExpired, message: 'session expired' });
    expect(await loginRaw(sim)).not.toBe(s);
  });

  it('logs an idle agent off when its session ends (expireSessions)', async () => {
    sim = await startSim();
    const s = await loginRaw(sim);
    expect((await raw(sim, 'POST', `/callControl/agent/service/join?serviceId=${SERVICE}&phoneNumber=8990000001`, { session: s })).status).toBe(204);
    expect(sim.state.agent('va1')?.state).toBe('LOGON');
    expect((await raw(sim, 'POST', '/__sim/expire-sessions')).body).toEqual({ expired: 1 });
    expect(await raw(sim, 'POST', '/callControl/agent/status/ready', { session: s })).toMatchObject({ status: 401, message: 'session expired' });
    expect(sim.state.agent('va1')?.state).toBe('LOGOFF');
    expect(sim.state.activeSessions()).toBe(0);
  });

  it('answers unknown paths 404 and wrong methods 405', async () => {
    sim = await startSim();
    expect((await raw(sim, 'GET', '/callControl/agent/nothing')).status).toBe(404);
    expect((await raw(sim, 'GET', '/session/login')).status).toBe(405);
    expect((await raw(sim, 'GET', '/callControl/agent/status/ready', { session: 'x' })).status).toBe(405);
  });

  it('counts requests per method and path', async () => {
    sim = await startSim();
    const s = await loginRaw(sim);
    await raw(sim, 'POST', '/callControl/v6.0/agent/status', { session: s });
    await raw(sim, 'POST', '/callControl/agent/status', { session: s });
    expect(sim.state.requestCounts()).toMatchObject({ 'POST /session/login': 1, 'POST /callControl/agent/status': 2 });
  });
});
