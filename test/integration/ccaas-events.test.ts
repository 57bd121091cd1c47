/**
 * Participant events against a real Apache Kafka broker (KRaft, one node, started here): the
 * publisher's journal (src/store/outbox.ts on disk) holds events while the broker is down and
 * delivers them, in order and once, when it is back; events a stopped gateway left undelivered
 * are delivered by the next one from the same journal.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/store/outbox.js';
import { EventPublisher, KafkaSink } from '../../src/vendors/ccaas/events.js';
import type { ParticipantEvent } from '../../src/vendors/ccaas/wire.js';
import { readTopic, startBroker, type TestBroker } from '../helpers/kafka.js';
import { waitFor } from '../helpers/test-engine.js';

const log = pino({ level: process.env['VAGW_TEST_LOG'] ?? 'silent' });
let broker: TestBroker;
const TOPIC = 'participant-events-it';
const readTopicFor = (conversations: string[], want: number): Promise<ParticipantEvent[]> => readTopic<ParticipantEvent>(broker.address, TOPIC, (e) => conversations.includes(e.conversationId), want);

async function publisher(dir: string): Promise<{ p: EventPublisher; journal: Outbox<ParticipantEvent> }> {
  const journal = await Outbox.open<ParticipantEvent>(path.join(dir, 'ccaas-events.jsonl'));
  const p = new EventPublisher(journal, new KafkaSink({ brokers: [broker.address], topic: TOPIC, timeoutMs: 1500, clientId: 'it' }), log);
  return { p, journal };
}

const ev = (conversationId: string, type: ParticipantEvent['type']) => ({ type, conversationId, participantId: `${conversationId}-agent`, userName: 'va-agent-01' });

beforeAll(async () => {
  broker = await startBroker();
  // The topic exists (and the consumer reads it) before the first outage.
  const dir = mkdtempSync(path.join(tmpdir(), 'vagw-ev-'));
  const { p, journal } = await publisher(dir);
  await p.publish(ev('warm-up', 'PARTICIPANT_CALL_INITIATED'));
  p.start();
  await waitFor(() => p.pending === 0, 20_000, 'the warm-up event delivered');
  await p.close();
  await journal.close();
}, 90_000);

afterAll(async () => {
  await broker?.stop();
});

describe('participant events on a real broker', () => {
  it('the broker down during calls: events kept, then delivered in order, once each, when it returns', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vagw-ev-'));
    const { p, journal } = await publisher(dir);
    p.start();
    await broker.stop();
    for (const c of ['c1', 'c2']) await p.publish(ev(c, 'PARTICIPANT_CALL_INITIATED'));
    await p.publish(ev('c1', 'PARTICIPANT_CALL_COMPLETED'));
    await p.publish(ev('c1', 'PARTICIPANT_CALL_COMPLETED')); // the same transition again: one event
    await p.publish(ev('c2', 'PARTICIPANT_CALL_COMPLETED'));
    await waitFor(() => p.stats.failures >= 2, 10_000, 'delivery failing while the broker is down');
    expect(p.pending).toBe(4);
    await broker.start();
    await waitFor(() => p.pending === 0, 30_000, 'delivered after the broker returned');
    const mine = await readTopicFor(['c1', 'c2'], 4);
    expect(mine.map((e) => `${e.conversationId} ${e.sequence} ${e.type}`)).toEqual(expect.arrayContaining(['c1 1 PARTICIPANT_CALL_INITIATED', 'c1 2 PARTICIPANT_CALL_COMPLETED', 'c2 1 PARTICIPANT_CALL_INITIATED', 'c2 2 PARTICIPANT_CALL_COMPLETED']));
    expect(mine.length).toBe(4);
    // Per conversation, in order.
    for (const c of ['c1', 'c2']) expect(mine.filter((e) => e.conversationId === c).map((e) => e.sequence)).toEqual([1, 2]);
    await p.close();
    await journal.close();
  }, 90_000);

  it('a gateway stopped with events undelivered: the next one delivers them from the journal, once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vagw-ev-'));
    await broker.stop();
    const first = await publisher(dir);
    first.p.start();
    await first.p.publish(ev('r1', 'PARTICIPANT_CALL_INITIATED'));
    await first.p.publish(ev('r1', 'PARTICIPANT_CALL_COMPLETED'));
    await waitFor(() => first.p.stats.failures >= 1, 10_000, 'delivery failing');
    await first.p.close();
    // No journal close: the process is gone as after SIGKILL.
    await broker.start();
    const second = await publisher(dir);
    expect(second.p.pending).toBe(2);
    second.p.start();
    await waitFor(() => second.p.pending === 0, 30_000, 'delivered by the next run');
    expect((await readTopicFor(['r1'], 2)).map((e) => `${e.sequence} ${e.type}`)).toEqual(['1 PARTICIPANT_CALL_INITIATED', '2 PARTICIPANT_CALL_COMPLETED']);
    await second.p.close();
    await second.journal.close();
    await first.journal.close();
  }, 90_000);
});
