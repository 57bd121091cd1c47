/**
 * The gateway as a CCaaS platform's voice provider, end to end: the strict platform simulator
 * (in-process sandbox) with its SIP placer; participant events on a real Apache Kafka broker
 * (KRaft, one node, started here); a real Twilio-protocol test engine. The provider registers
 * itself at the platform at start; a customer calls the toll-free number, the platform rings the
 * agent's line and its softphone accepts through the adapter endpoint; the softphone's hold,
 * mute and end buttons act on the call through the same endpoints.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTone } from '../../media/dsp/goertzel.js';
import type { RunningGateway } from '../../src/server.js';
import type { SimConversation } from '../../src/vendors/ccaas/simulator/state.js';
import type { ParticipantEvent } from '../../src/vendors/ccaas/wire.js';
import { ccaasSandbox, startFixture } from '../helpers/gateway.js';
import { readTopic, startBroker, type TestBroker } from '../helpers/kafka.js';
import { startTestEngine, waitFor, type TestEngine, type TestEngineCall } from '../helpers/test-engine.js';

let gw: RunningGateway;
let engine: TestEngine;
let broker: TestBroker;
const sim = () => ccaasSandbox(gw).simulator;
const base = () => `http://127.0.0.1:${gw.httpPort}/ccaas`;

/** At least `minMs` of `freq` in the last `windowMs` the customer heard. */
function customerHears(c: SimConversation, freq: number, minMs: number, windowMs = 2000): boolean {
  const s = sim().leg(c.conversationId)?.receivedSamples() ?? new Int16Array();
  const tail = s.subarray(Math.max(0, s.length - (windowMs * 8000) / 1000));
  let run = 0;
  for (let at = 0; at + 160 <= tail.length; at += 160) {
    run = hasTone(tail.subarray(at, at + 160), freq, 8000) ? run + 1 : 0;
    if (run * 20 >= minMs) return true;
  }
  return false;
}

async function engineCallFor(conversationId: string): Promise<TestEngineCall> {
  const find = () => engine.calls.find((c) => ((c.start?.['start'] as { customParameters?: Record<string, string> } | undefined)?.customParameters ?? {})['conversationId'] === conversationId);
  await waitFor(() => !!find(), 5000, `the engine's call for ${conversationId}`);
  return find()!;
}

const eventsOf = (c: SimConversation) => sim().state.conversation(c.conversationId).events.map((e) => e.type);

beforeAll(async () => {
  process.env['VAGW_TEST_DATA'] = mkdtempSync(path.join(tmpdir(), 'vagw-ccaas-'));
  broker = await startBroker();
  engine = await startTestEngine({ protocol: 'twilio' });
  gw = await startFixture('ccaas-gateway.yaml', (c) => {
    c.engines['bot']!.url = engine.url;
    c.ccaas.events.brokers = [broker.address];
  });
}, 90_000);
afterAll(async () => {
  await gw?.shutdown(0);
  await engine?.close();
  await broker?.stop();
});

describe('ccaas: the gateway as the voice provider', () => {
  it('registers itself at the platform at start: the provider with the seven adapter URLs, the number associated', async () => {
    await waitFor(() => sim().state.providers.size === 1 && sim().state.numbers.get('tfn-100')?.providerId !== undefined, 5000, 'the provider registered');
    const p = [...sim().state.providers.values()][0]!;
    expect(p.name).toBe('vagw');
    expect(p.accept_call_url).toBe(`${base()}/accept`);
    expect(p.access_token_url).toBe(`${base()}/token`);
  });

  it('accept -> the call is answered and bridged (tones both ways), INITIATED on Kafka; end from the platform -> BYE, COMPLETED once', async () => {
    const c = await sim().softphone.call({ number: '+18005550100' });
    expect(sim().state.conversation(c.conversationId).state).toBe('accepted');
    const e = await engineCallFor(c.conversationId);
    const custom = (e.start!['start'] as { customParameters: Record<string, string> }).customParameters;
    expect(custom).toMatchObject({ conversationId: c.conversationId, agentParticipantId: c.agentParticipantId, customerParticipantId: c.customerParticipantId });
    await waitFor(() => e.receivedTone(440, 200), 3000, 'the engine hears the customer');
    await e.sendTone(1000, 600, { paced: true });
    await waitFor(() => customerHears(c, 1000, 200), 3000, 'the customer hears the engine');
    await waitFor(() => eventsOf(c).includes('PARTICIPANT_CALL_INITIATED'), 5000, 'INITIATED consumed from Kafka');
    const r = await sim().softphone.press(c, 'end-all');
    expect(r).toEqual({ status: 200, body: { status: 'Success' } });
    await waitFor(() => eventsOf(c).includes('PARTICIPANT_CALL_COMPLETED'), 5000, 'COMPLETED consumed from Kafka');
    const conv = sim().state.conversation(c.conversationId);
    expect(conv.endedBy).toBe('platform');
    expect(conv.events.map((x) => x.type)).toEqual(['PARTICIPANT_CALL_INITIATED', 'PARTICIPANT_CALL_COMPLETED']);
    expect(conv.events[1]).toMatchObject({ removeAllParticipants: true, participantId: c.agentParticipantId, outcome: gw.config.profiles[0]!.contactCenter.termCodes.completed });
    expect([conv.duplicates, conv.violations]).toEqual([0, []]);
    // A replayed end is answered Success and changes nothing.
    expect((await sim().softphone.press(c, 'end-all')).status).toBe(200);
    await waitFor(() => sim().state.available(c.agent), 3000, 'the agent available again');
  });

  it('the customer hangs up: PARTICIPANT_CALL_COMPLETED once, with the outcome', async () => {
    const c = await sim().softphone.call({});
    await engineCallFor(c.conversationId);
    sim().softphone.hangup(c);
    await waitFor(() => eventsOf(c).length === 2, 5000, 'both events');
    const conv = sim().state.conversation(c.conversationId);
    expect(conv.events.map((x) => [x.type, x.outcome])).toEqual([['PARTICIPANT_CALL_INITIATED', undefined], ['PARTICIPANT_CALL_COMPLETED', gw.config.profiles[0]!.contactCenter.termCodes.callerHungUp]]);
    expect(conv.endedBy).toBe('customer');
  });

  it('hold: the customer side is offered sendonly and the engine told; resume restores both ways; mute silences the engine toward the customer only', async () => {
    const c = await sim().softphone.call({});
    const e = await engineCallFor(c.conversationId);
    await waitFor(() => e.receivedTone(440, 200), 3000, 'audio up');
    expect((await sim().softphone.press(c, 'hold')).status).toBe(200);
    await waitFor(() => sim().leg(c.conversationId)?.directions().remote === 'sendonly', 3000, 'the re-INVITE with sendonly');
    expect(sim().leg(c.conversationId)?.directions().local).toBe('recvonly');
    // On hold the customer hears silence, not the engine.
    await e.sendTone(1500, 600, { paced: true });
    expect(customerHears(c, 1500, 100, 600)).toBe(false);
    await waitFor(() => e.events.includes('hold') || e.messages.some((m) => JSON.stringify(m).includes('"hold"')), 3000, 'the engine told of the hold');
    expect((await sim().softphone.press(c, 'hold')).status).toBe(200); // a repeat: Success, nothing twice
    expect((await sim().softphone.press(c, 'resume')).status).toBe(200);
    await waitFor(() => sim().leg(c.conversationId)?.directions().remote === 'sendrecv', 3000, 'the re-INVITE with sendrecv');
    const before = e.receivedMs;
    await waitFor(() => e.receivedMs > before + 300, 3000, 'the customer heard by the engine again');
    expect((await sim().softphone.press(c, 'mute')).status).toBe(200);
    await e.sendTone(1300, 800, { paced: true });
    expect(customerHears(c, 1300, 100, 700)).toBe(false);
    const heard = e.receivedMs;
    await waitFor(() => e.receivedMs > heard + 200, 3000, 'the engine still hears the customer while muted');
    expect((await sim().softphone.press(c, 'unmute')).status).toBe(200);
    await e.sendTone(1300, 600, { paced: true });
    await waitFor(() => customerHears(c, 1300, 200), 3000, 'the customer hears the engine after unmute');
    expect((await sim().softphone.press(c, 'end')).status).toBe(200);
    await waitFor(() => eventsOf(c).length === 2, 5000, 'COMPLETED');
    expect(sim().state.conversation(c.conversationId).events[1]).toMatchObject({ removeAllParticipants: false });
  });

  it('bad input: no credential 401, unknown conversation 404, malformed body 400, an action on a call not yet accepted 404; a replayed accept is Success once', async () => {
    const post = async (op: string, body: unknown, auth = 'Bearer it-adapter-token-0123456789') => {
      const r = await fetch(`${base()}/${op}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const author = { userName: 'va-agent-01', participantId: 'p-1' };
    expect(await post('hold', { conversationId: 'x', participantId: 'p', author }, '')).toMatchObject({ status: 401, body: { status: 'Failure' } });
    expect(await post('hold', { conversationId: 'x', participantId: 'p', author }, 'Bearer wrong-token-wrong-token')).toMatchObject({ status: 401 });
    expect(await post('hold', '{"conversationId": ', undefined)).toMatchObject({ status: 400, body: { message: 'the body is not JSON' } });
    expect(await post('end', { conversationId: 'x', participantId: 'p', author })).toMatchObject({ status: 400, body: { message: 'removeAllParticipants must be true or false' } });
    expect(await post('hold', { conversationId: 'nope', participantId: 'p', author })).toMatchObject({ status: 404 });
    // An accept refused (no call) leaves nothing behind: the agent has no such conversation after it.
    expect(await post('accept', { conversationId: 'ghost', author })).toMatchObject({ status: 404 });
    expect(await post('hold', { conversationId: 'ghost', participantId: 'p', author })).toMatchObject({ status: 404, body: { message: 'conversation ghost is not a call of agent va-agent-01' } });
    expect(await post('hold', { conversationId: 'x', participantId: 'p', author: { userName: 'nobody', participantId: 'p' } })).toMatchObject({ status: 404 });
    expect(await post('transfer', {})).toMatchObject({ status: 404 });
    const ringing = await sim().softphone.call({ accept: false });
    await waitFor(() => gw.calls.calls.size === 1, 3000, 'the call ringing at the gateway');
    const early = await sim().softphone.press(ringing, 'hold');
    expect(early.status).toBe(404);
    const ok = await sim().softphone.press(ringing, 'accept');
    expect(ok.status).toBe(200);
    const again = await sim().softphone.press(ringing, 'accept');
    expect(again.status).toBe(200);
    sim().softphone.hangup(ringing);
    await waitFor(() => eventsOf(ringing).length === 2, 5000, 'its events');
    expect(sim().state.conversation(ringing.conversationId).violations).toEqual([]);
    expect(sim().state.eventStats).toMatchObject({ duplicates: 0, unknown: 0, violations: 0 });
  });

  it('the broker stopped during a call: the call goes on; its events are delivered in order, once, after the broker returns', async () => {
    await broker.stop();
    const c = await sim().softphone.call({});
    await engineCallFor(c.conversationId);
    expect((await sim().softphone.press(c, 'end-all')).status).toBe(200);
    const pending = () => gw.contactCenters.links.get('ccaas')!.adapter.counters!()['eventsPending'] ?? 0;
    await waitFor(() => pending() === 2, 5000, 'both events held while the broker is down');
    expect(eventsOf(c)).toEqual([]);
    await broker.start();
    await waitFor(() => eventsOf(c).length === 2, 40_000, 'both events after the outage');
    const conv = sim().state.conversation(c.conversationId);
    expect(conv.events.map((e) => e.type)).toEqual(['PARTICIPANT_CALL_INITIATED', 'PARTICIPANT_CALL_COMPLETED']);
    expect([conv.duplicates, conv.violations]).toEqual([0, []]);
    await waitFor(() => sim().state.available(c.agent), 3000, 'the agent available again');
  }, 60_000);

  it('the access token endpoint: a short-lived JWT for a known agent logon name; an unknown one 404', async () => {
    const r = await fetch(`${base()}/token`, { method: 'POST', headers: { authorization: 'Bearer it-adapter-token-0123456789', 'content-type': 'application/json' }, body: JSON.stringify({ agentLogonName: 'va-agent-02' }) });
    const body = (await r.json()) as { token: string };
    expect(r.status).toBe(200);
    const [, payload] = body.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'va-agent-02', aud: 'vagw-softphone', iss: 'vagw' });
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(300);
    const bad = await fetch(`${base()}/token`, { method: 'POST', headers: { authorization: 'Bearer it-adapter-token-0123456789' }, body: JSON.stringify({ agentLogonName: 'someone-else' }) });
    expect(bad.status).toBe(404);
  });

  it('a gateway stopped with events undelivered (broker down): the next start on the same data directory delivers them, once', async () => {
    await broker.stop();
    const c = await sim().softphone.call({});
    await engineCallFor(c.conversationId);
    sim().softphone.hangup(c);
    const pending = () => gw.contactCenters.links.get('ccaas')!.adapter.counters!()['eventsPending'] ?? 0;
    await waitFor(() => pending() === 2, 5000, 'both events held');
    await gw.shutdown(0);
    await broker.start();
    gw = await startFixture('ccaas-gateway.yaml', (cfg) => {
      cfg.engines['bot']!.url = engine.url;
      cfg.ccaas.events.brokers = [broker.address];
    });
    const events = await readTopic<ParticipantEvent>(broker.address, 'participant-events', (e) => e.conversationId === c.conversationId, 2);
    expect(events.map((e) => `${e.sequence} ${e.type} ${e.participantId === c.agentParticipantId}`)).toEqual(['1 PARTICIPANT_CALL_INITIATED true', '2 PARTICIPANT_CALL_COMPLETED true']);
    await waitFor(() => pending() === 0, 10_000, 'the journal empty');
  }, 60_000);
});

