/// <reference lib="dom" />
/**
 * A person takes a CCaaS platform's call on the demo page, end to end in headless Chromium: the
 * page gets a softphone token (the sandbox platform asks the gateway's access-token endpoint, as
 * its softphone would), registers with SIP.js over /sip carrying it (Authorization: Bearer, RFC
 * 8898, in place of its digest password), the platform routes a customer call to the agent and
 * accepts it, the gateway rings the page over WebRTC, audio flows both ways, and the page's
 * hang-up ends the conversation with one PARTICIPANT_CALL_COMPLETED at the platform.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSustainedTone } from '../../media/dsp/goertzel.js';
import type { RunningGateway } from '../../src/server.js';
import { launchChromium, pageHearsTone, toneWav } from '../helpers/browser.js';
import { ccaasSandbox, startFixture } from '../helpers/gateway.js';
import { waitFor } from '../helpers/test-engine.js';

let gw: RunningGateway;
let browser: Browser;
const sim = () => ccaasSandbox(gw).simulator;

beforeAll(async () => {
  gw = await startFixture('ccaas-webrtc-gateway.yaml', (c) => {
    c.dataDir = mkdtempSync(path.join(tmpdir(), 'vagw-ccaas-webrtc-'));
  });
  await waitFor(() => sim().state.providers.size === 1, 5000, 'the provider registered at the sandbox platform');
  browser = await launchChromium(toneWav(1000));
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await gw?.shutdown(0);
});

async function openDemo(number: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`http://127.0.0.1:${gw.httpPort}/demo`);
  await page.fill('#number', number);
  await page.fill('#password', '');
  await page.check('#autoAnswer');
  return page;
}

describe('a person on the demo page takes a CCaaS call with a softphone token', () => {
  it('without a token or password the registration is refused (401); with another agent\'s token, 403', async () => {
    const page = await openDemo('+18990000502');
    await page.click('#registerBtn');
    await page.waitForFunction(() => document.querySelector('#regState')?.textContent === 'failed', undefined, { timeout: 10_000 });
    expect(await page.textContent('#regError')).toMatch(/^401 /);
    // human-1's token does not register human-2.
    const r = await fetch(`http://127.0.0.1:${gw.httpPort}/demo/token`, { method: 'POST', body: JSON.stringify({ number: '+18990000501' }) });
    const { token } = (await r.json()) as { token: string };
    await page.reload();
    await page.fill('#number', '+18990000502');
    await page.fill('#token', token);
    await page.click('#registerBtn');
    await page.waitForFunction(() => document.querySelector('#regState')?.textContent === 'failed', undefined, { timeout: 10_000 });
    expect(await page.textContent('#regError')).toMatch(/^403 /);
    expect(gw.calls.registrar!.lookup('cc-h2')).toBeUndefined();
    await page.close();
  });

  it('token from the platform, REGISTER with it, a platform call accepted and answered on the page, audio both ways, hang-up: COMPLETED once', async () => {
    const page = await openDemo('+18990000501');
    await page.click('#tokenBtn');
    await page.waitForFunction(() => ((document.querySelector('#token') as HTMLInputElement | null)?.value ?? '').split('.').length === 3, undefined, { timeout: 5000 });
    await page.click('#registerBtn');
    await page.waitForFunction(() => document.querySelector('#regState')?.textContent === 'registered', undefined, { timeout: 10_000 });
    expect(gw.calls.registrar!.lookup('cc-h1')?.destination.transport).toBe('ws');

    await page.click('#callMe');
    await page.waitForFunction(() => document.querySelector('#callState')?.textContent === 'established', undefined, { timeout: 15_000 });
    const conv = [...sim().state.conversations.values()].find((c) => c.agent === 'human-1')!;
    expect(conv.state).toBe('accepted');
    const leg = sim().leg(conv.conversationId)!;
    await pageHearsTone(page, 440);
    await waitFor(() => hasSustainedTone(leg.receivedSamples(), 1000, 300), 10_000, 'the page tone at the customer');
    await page.click('#hangup');
    await leg.ended;
    await waitFor(() => sim().state.conversation(conv.conversationId).events.length === 2, 5000, 'INITIATED and COMPLETED at the platform');
    const done = sim().state.conversation(conv.conversationId);
    expect(done.events.map((e) => e.type)).toEqual(['PARTICIPANT_CALL_INITIATED', 'PARTICIPANT_CALL_COMPLETED']);
    expect([done.duplicates, done.violations]).toEqual([0, []]);
    await page.close();
  }, 60_000);
});
