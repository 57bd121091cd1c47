/**
 * `vagw ccaas register` against the CCaaS sandbox run as its own process (`vagw sandbox`): the
 * voice provider is created with the seven adapter URLs and the numbers are associated; a second
 * run updates the same provider (its id kept in the data directory), never a second one; a wrong
 * credential fails naming the step and the platform's answer.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready, run, stop, type Proc } from '../helpers/processes.js';
import { freePort } from '../helpers/sipp.js';

let sandbox: Proc;
let simPort: number;
let dir: string;

const config = (o: { baseUrl: string; secret?: string }) => `gateway: { name: ccaas-reg, http: { host: 127.0.0.1, port: 0 }, logLevel: warn }
media: { host: 127.0.0.1, rtpPortMin: 52100, rtpPortMax: 52199 }
ccaas:
  baseUrl: ${o.baseUrl}
  partnerId: partner-9
  clientId: reg-client
  clientSecret: ${o.secret ?? 'reg-secret-reg-secret'}
  adapterToken: reg-adapter-token-0123456789
  tokenSecret: reg-token-secret-reg-token-secret-0123
  publicBaseUrl: https://vagw.example.com:8443
  phoneNumbers: [{ id: tfn-7, number: "+18005550107" }, { id: tfn-8, number: "+18005550108" }]
  sandboxPort: ${simPort}
  events: { sink: webhook, webhookUrl: "https://events.example.com/hook" }
dataDir: ${JSON.stringify(path.join(dir, o.baseUrl === 'sandbox' ? 'sandbox-data' : 'data'))}
profiles:
  - name: ccaas
    listen: { host: 127.0.0.1, port: 25994, transports: [udp] }
    engine: builtin:echo
    trustedSources: [127.0.0.0/8]
    contactCenter: { vendor: ccaas, serviceId: voice }
    agents:
      - { range: { from: "+18990000401", count: 2 }, idPrefix: rg-, idWidth: 2 }
`;

function register(file: string): Promise<{ code: number; out: string }> {
  const p = run(['ccaas', 'register', '--config', file]);
  return new Promise((resolve) => p.child.once('exit', (code) => resolve({ code: code ?? -1, out: p.out.join('\n') })));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vagw-ccaas-reg-'));
  simPort = await freePort();
  writeFileSync(path.join(dir, 'sandbox.yaml'), config({ baseUrl: 'sandbox' }));
  sandbox = run(['sandbox', '--config', path.join(dir, 'sandbox.yaml')]);
  await ready(sandbox, `http://127.0.0.1:${simPort}/__sim/state`, 'sandbox');
}, 30_000);
afterAll(async () => {
  await stop(sandbox);
});

describe('vagw ccaas register', () => {
  it('creates the provider and associates the numbers; a second run updates it', async () => {
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, config({ baseUrl: `http://127.0.0.1:${simPort}` }));
    const first = await register(file);
    expect(first.code, first.out).toBe(0);
    const r1 = JSON.parse(first.out) as { providerId: string; action: string; urls: Record<string, string> };
    expect(r1.action).toBe('created');
    expect(r1.urls['accept_call_url']).toBe('https://vagw.example.com:8443/ccaas/accept');
    const second = await register(file);
    expect(second.code, second.out).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({ providerId: r1.providerId, action: 'updated' });
    const st = (await (await fetch(`http://127.0.0.1:${simPort}/__sim/state`)).json()) as { providers: { id: string; name: string; end_call_url: string }[]; numbers: Record<string, { providerId?: string }> };
    expect(st.providers.map((p) => [p.id, p.name, p.end_call_url])).toEqual([[r1.providerId, 'vagw', 'https://vagw.example.com:8443/ccaas/end']]);
    expect(st.numbers['tfn-7']?.providerId).toBe(r1.providerId);
    expect(st.numbers['tfn-8']?.providerId).toBe(r1.providerId);
  }, 30_000);

  it("a wrong client secret: exit 1 naming the step and the platform's answer; a sandbox config is refused with the reason", async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, config({ baseUrl: `http://127.0.0.1:${simPort}`, secret: 'wrong-secret' }));
    const bad = await register(file);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/ccaas register: (read|create) the voice provider: the platform answered 401/);
    const sb = await register(path.join(dir, 'sandbox.yaml'));
    expect(sb.code).toBe(2);
    expect(sb.out).toContain('ccaas.baseUrl is sandbox');
  }, 30_000);
});
