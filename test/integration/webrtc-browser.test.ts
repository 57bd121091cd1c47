/// <reference lib="dom" />
/**
 * A person as a virtual agent, end to end in headless Chromium: the demo page registers with
 * SIP.js over /sip (RFC 7118, digest), the LiveVox sandbox routes a customer call to the agent
 * (its placer is the carrier: plain RTP with a 440 Hz tone), the gateway INVITEs the page with a
 * WebRTC offer (ICE, DTLS-SRTP), the page answers. The tone reaches the page (WebAudio analyser),
 * the page's microphone tone (1 kHz, a fake capture device) reaches the customer, DTMF from the
 * page reaches the customer as RFC 4733, and the page's hang-up ends the carrier leg with the
 * simulator recording one term code and the agent back to Ready.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSustainedTone } from '../../media/dsp/goertzel.js';
import type { RunningGateway } from '../../src/server.js';
import { launchChromium, pageHearsTone, toneWav } from '../helpers/browser.js';
import { livevoxSandbox, startFixture } from '../helpers/gateway.js';
import { waitFor } from '../helpers/test-engine.js';

let gw: RunningGateway;
let browser: Browser;
const ARTIFACTS = path.resolve(import.meta.dirname, '..', '..', 'test-results');

const sim = () => livevoxSandbox(gw).simulator;
const vendorState = (user: string) => sim().state.snapshot().agents.find((a) => a.user === user)?.state;
const demo = (page: Page) => page.evaluate(() => (window as unknown as { vagwDemo: { state: Record<string, unknown> } }).vagwDemo.state);

const heard = (samples: Int16Array, freqHz: number, minMs: number): boolean => hasSustainedTone(samples, freqHz, minMs);

/** The last `ms` of 8 kHz samples. */
const tail = (s: Int16Array, ms: number): Int16Array => s.subarray(Math.max(0, s.length - ms * 8));
/** The last `ms` are (near) silence. */
function silentTail(s: Int16Array, ms: number): boolean {
  const t = tail(s, ms);
  return t.length === ms * 8 && t.every((x) => Math.abs(x) < 200);
}

beforeAll(async () => {
  gw = await startFixture('webrtc-gateway.yaml', (c) => {
    c.dataDir = mkdtempSync(path.join(tmpdir(), 'vagw-webrtc-'));
  });
  await waitFor(() => ['va-01', 'va-02', 'va-03', 'va-04'].every((u) => vendorState(u) === 'READY'), 10_000, 'agents Ready at LiveVox');
  browser = await launchChromium(toneWav(1000));
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await gw?.shutdown(0);
});

async function openDemo(number: string, password: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`http://127.0.0.1:${gw.httpPort}/demo`);
  await page.fill('#number', number);
  await page.fill('#password', password);
  await page.check('#autoAnswer');
  await page.click('#registerBtn');
  return page;
}

describe('the demo page as a virtual agent (SIP.js + WebRTC in Chromium)', () => {
  it('a wrong password is refused and shown', async () => {
    const page = await openDemo('+18990000004', 'not-the-password');
    await page.waitForFunction(() => document.querySelector('#regState')?.textContent === 'failed', undefined, { timeout: 10_000 });
    expect(await page.textContent('#regError')).toMatch(/^40[13] /);
    expect(gw.calls.registrar!.lookup('va-04')).toBeUndefined();
    await page.close();
  });

  it('registers, takes a sandbox call, audio and DTMF both ways, hangs up; term code and Ready', async () => {
    const page = await openDemo('+18990000002', 'page-secret');
    await page.waitForFunction(() => document.querySelector('#regState')?.textContent === 'registered', undefined, { timeout: 10_000 });
    expect(gw.calls.registrar!.lookup('va-02')?.destination.transport).toBe('ws');
    const agents = (await (await fetch(`http://127.0.0.1:${gw.httpPort}/agents`)).json()) as { agents: { id: string; registered?: boolean }[] };
    expect(agents.agents.find((a) => a.id === 'va-02')?.registered).toBe(true);
    // The page shows it too.
    await page.waitForFunction(() => document.querySelector('#agents tbody')?.textContent?.includes('webrtc:sip (registered)') ?? false, undefined, { timeout: 5000 });

    const call = sim().startCall('+18990000002', { transactionId: '710000000001', sessionId: 'WEB1@10.0.0.1', phoneNumber: '3125550111' });
    await page.waitForFunction(() => document.querySelector('#callState')?.textContent === 'established', undefined, { timeout: 15_000 });
    const placed = livevoxSandbox(gw).placer!.find(call.transactionId)!;
    expect(placed).toBeDefined();

    // The customer's 440 Hz reaches the page through the gateway (RTP -> werift -> SRTP -> browser).
    await pageHearsTone(page, 440);
    // The page's microphone (1 kHz) reaches the customer.
    await waitFor(() => heard(placed.receivedSamples(), 1000, 300), 10_000, 'page tone at the customer');

    // The live tables show the call and the busy agent.
    await page.waitForFunction(() => document.querySelector('#calls tbody')?.textContent?.includes('va-02') ?? false, undefined, { timeout: 5000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'webrtc-demo-mid-call.png'), fullPage: true });

    // DTMF from the keypad: RFC 4733 from the browser, relayed to the customer as RFC 4733.
    await page.click('#keypad button[data-digit="5"]');
    await page.click('#keypad button[data-digit="#"]');
    expect((await demo(page))['dtmfSent']).toBe('5#');
    await waitFor(() => placed.receivedDigits() === '5#', 5000, 'digits at the customer');

    // Hold from the page (SIP.js re-INVITE a=sendonly): answered from our offer, the customer
    // hears silence; resume brings the page's tone back.
    await page.click('#hold');
    await page.waitForFunction(() => (window as unknown as { vagwDemo: { state: { held: boolean } } }).vagwDemo.state.held, undefined, { timeout: 5000 });
    await waitFor(() => silentTail(placed.receivedSamples(), 400), 5000, 'silence at the customer while held');
    await page.click('#hold');
    await page.waitForFunction(() => !(window as unknown as { vagwDemo: { state: { held: boolean } } }).vagwDemo.state.held, undefined, { timeout: 5000 });
    await waitFor(() => heard(tail(placed.receivedSamples(), 600), 1000, 300), 5000, 'page tone at the customer after resume');

    await page.click('#hangup');
    await placed.ended;
    await page.waitForFunction(() => ['terminated', 'idle'].includes(document.querySelector('#callState')?.textContent ?? ''), undefined, { timeout: 5000 });
    await waitFor(() => vendorState('va-02') === 'READY' && gw.agents.find('livevox', '18990000002')!.state === 'ready', 10_000, 'agent Ready again');
    const rec = sim().state.snapshot().calls.find((c) => c.transactionId === call.transactionId)!;
    expect(rec.termCodes.map((t) => t.termCodeName)).toEqual(['AI Completed']);
    await page.close();
  }, 60_000);

  it('the browser tab closes mid-call: the call ends at once (no BYE can come), term code, agent Ready', async () => {
    const page = await openDemo('+18990000002', 'page-secret');
    await page.waitForFunction(() => document.querySelector('#regState')?.textContent === 'registered', undefined, { timeout: 10_000 });
    const call = sim().startCall('+18990000002', { transactionId: '710000000002', sessionId: 'WEB2@10.0.0.1' });
    await page.waitForFunction(() => document.querySelector('#callState')?.textContent === 'established', undefined, { timeout: 15_000 });
    const placed = livevoxSandbox(gw).placer!.find(call.transactionId)!;
    const started = Date.now();
    await page.close();
    const end = await placed.ended;
    expect(end.by).toBe('gateway');
    // Well before ICE consent freshness (RFC 7675, 30 s) would notice.
    expect(Date.now() - started).toBeLessThan(5000);
    await waitFor(() => vendorState('va-02') === 'READY' && gw.agents.find('livevox', '18990000002')!.state === 'ready', 10_000, 'agent Ready again');
    expect(gw.calls.registrar!.lookup('va-02')).toBeUndefined();
    const rec = sim().state.snapshot().calls.find((c) => c.transactionId === call.transactionId)!;
    expect(rec.termCodes).toHaveLength(1);
  }, 60_000);

  it('an agent nobody registered: the call is refused with 480 naming the reason', async () => {
    const { SipPeer, placeCall, OFFER } = await import('../helpers/sip-peer.js');
    const peer = await SipPeer.open();
    const { ok } = await placeCall(peer, 25870, '+18990000004', OFFER(7002));
    peer.close();
    expect(ok.status).toBe(480);
    expect(ok.reason).toBe('Virtual agent va-04 has no registered WebRTC endpoint');
  });
});
