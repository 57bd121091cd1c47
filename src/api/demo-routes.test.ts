import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpApi } from './http.js';

let api: HttpApi;
let base: string;
const placed: string[] = [];

beforeAll(async () => {
  api = new HttpApi({
    metrics: () => ({}) as never,
    health: () => ({ draining: false, activeCalls: 0 }),
    demo: {
      placeCall: async (agent) => {
        if (agent === 'busy') throw new Error('agent va-009 is not READY');
        placed.push(agent);
        return { transactionId: '42' };
      },
    },
  });
  base = `http://127.0.0.1:${await api.listen('127.0.0.1', 0)}`;
});
afterAll(() => api.close());

describe('/demo', () => {
  it('serves the page, its script and SIP.js as ES modules', async () => {
    const page = await fetch(`${base}/demo`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/demo/app.js');
    const app = await fetch(`${base}/demo/app.js`);
    expect(await app.text()).toContain("from '/demo/sip.js/index.js'");
    const sip = await fetch(`${base}/demo/sip.js/index.js`);
    expect(sip.headers.get('content-type')).toContain('text/javascript');
    expect(await sip.text()).toContain('export');
  });

  it('never serves files outside its folders', async () => {
    for (const p of ['/demo/../../package.json', '/demo/%2e%2e/%2e%2e/package.json', '/demo/sip.js/../../package.json', '/demo/nope.js']) {
      const r = await fetch(`${base}${p}`);
      expect([404, 400]).toContain(r.status);
    }
  });

  it('POST /demo/call asks the sandbox to call the agent; bad bodies get 400, refusals 409', async () => {
    const ok = await fetch(`${base}/demo/call`, { method: 'POST', body: JSON.stringify({ number: '+18990000002' }) });
    expect(ok.status).toBe(201);
    expect(placed).toEqual(['+18990000002']);
    const bad = await fetch(`${base}/demo/call`, { method: 'POST', body: '{}' });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as unknown).toEqual({ error: 'body must be {"number": "<agent number or id>"}' });
    const refused = await fetch(`${base}/demo/call`, { method: 'POST', body: JSON.stringify({ number: 'busy' }) });
    expect(refused.status).toBe(409);
    expect(await fetch(`${base}/demo/call`)).toHaveProperty('status', 405);
  });

  it('unknown WebSocket paths are refused with 404', async () => {
    const { default: WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/nothing`);
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(404);
  });
});
