/**
 * Participant events, delivered exactly once per transition and in order per conversation. Each
 * event is written to a durable journal (the outbox of src/store) before `publish` resolves, under
 * an id that names the transition (a repeat of the same transition is the same record), and is
 * removed only once the sink confirmed it: Kafka's acknowledgement from an idempotent producer
 * (keyed by conversation, so one partition keeps a conversation's order) or a webhook's 2xx. While
 * the sink is down the journal holds the events, retried with backoff; after a restart the
 * journal is delivered first, in its order.
 */
import type { Logger } from 'pino';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import type { Journal } from '../plugin.js';
import type { ParticipantEvent, ParticipantEventType } from './wire.js';

/** Events per delivery attempt, and conversations a webhook sink posts side by side. */
const MAX_BATCH = 200;
const WEBHOOK_PARALLEL = 8;

export interface EventSink {
  readonly kind: string;
  /** Deliver these events in this order; resolves once all are confirmed, rejects otherwise. */
  send(events: ParticipantEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** Create the participant-event topic when it is missing (3 partitions: conversations spread, each in order). */
export async function ensureTopic(o: { brokers: string[]; topic: string; clientId: string; timeoutMs?: number }): Promise<void> {
  const admin = new Admin({ clientId: o.clientId, bootstrapBrokers: o.brokers, ...(o.timeoutMs ? { timeout: o.timeoutMs, retries: 0 } : {}) });
  try {
    if (!(await admin.listTopics()).includes(o.topic)) {
      await admin.createTopics({ topics: [o.topic], partitions: 3, replicas: 1 }).catch((e: Error) => {
        // Another client created it meanwhile.
        if (!/exist/i.test(e.message)) throw e;
      });
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export class KafkaSink implements EventSink {
  readonly kind = 'kafka';
  private producer?: Producer<string, string, string, string>;
  private topicReady = false;

  constructor(private readonly o: { brokers: string[]; topic: string; timeoutMs: number; clientId: string }) {}

  private async ensureTopic(): Promise<void> {
    if (this.topicReady) return;
    await ensureTopic({ brokers: this.o.brokers, topic: this.o.topic, clientId: `${this.o.clientId}-admin`, timeoutMs: this.o.timeoutMs });
    this.topicReady = true;
  }

  async send(events: ParticipantEvent[]): Promise<void> {
    await this.ensureTopic();
    this.producer ??= new Producer({ clientId: this.o.clientId, bootstrapBrokers: this.o.brokers, serializers: stringSerializers, idempotent: true, timeout: this.o.timeoutMs, retries: 0 });
    try {
      await this.producer.send({
        messages: events.map((e) => ({ topic: this.o.topic, key: e.conversationId, value: JSON.stringify(e), headers: new Map([['eventId', e.eventId], ['type', e.type]]) })),
      });
    } catch (e) {
      // A producer that met a broker outage starts over (new connection, new producer id).
      const p = this.producer;
      this.producer = undefined;
      await p?.close().catch(() => undefined);
      throw e;
    }
  }

  /** Bounded: a producer talking to a broker that is gone must not hold the shutdown. */
  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await Promise.race([new Promise<void>((r) => p.close(true, () => r())), new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

export class WebhookSink implements EventSink {
  readonly kind = 'webhook';
  constructor(private readonly o: { url: string; timeoutMs: number; token?: string }) {}

  /**
   * One POST per event. A conversation's events go one after the other (the receiver sees them in
   * sequence); conversations go side by side, a few at a time. All or nothing for the batch: a
   * failure fails it, and the events already accepted are sent again with it (the receiver drops
   * them by event id).
   */
  async send(events: ParticipantEvent[]): Promise<void> {
    const byConversation = new Map<string, ParticipantEvent[]>();
    for (const e of events) byConversation.set(e.conversationId, [...(byConversation.get(e.conversationId) ?? []), e]);
    const queues = [...byConversation.values()];
    const worker = async (): Promise<void> => {
      for (let q = queues.shift(); q; q = queues.shift()) for (const e of q) await this.post(e);
    };
    await Promise.all(Array.from({ length: Math.min(WEBHOOK_PARALLEL, queues.length) }, worker));
  }

  private async post(e: ParticipantEvent): Promise<void> {
    const r = await fetch(this.o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}) },
      body: JSON.stringify(e),
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    await r.arrayBuffer();
    if (r.status < 200 || r.status >= 300) throw new Error(`webhook answered ${r.status}`);
  }

  async close(): Promise<void> {}
}


export class EventPublisher {
  readonly stats = { published: 0, delivered: 0, failures: 0 };
  private readonly seq = new Map<string, number>();
  private running = false;
  private closed = false;
  private wake?: () => void;
  private looping?: Promise<void>;
  private delayMs = 0;

  constructor(
    private readonly journal: Journal<ParticipantEvent>,
    private readonly sink: EventSink,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const e of journal.pending()) this.seq.set(e.step.conversationId, Math.max(this.seq.get(e.step.conversationId) ?? 0, e.step.sequence));
  }

  get pending(): number {
    return this.journal.size;
  }

  /** Record the transition (once: a repeat is the same event), then deliver it. Resolves once on disk. */
  async publish(e: { type: ParticipantEventType; conversationId: string; participantId: string; userName: string; outcome?: string; removeAllParticipants?: boolean }): Promise<void> {
    const eventId = `${e.conversationId}/${e.participantId}/${e.type}`;
    if (this.journal.has(eventId)) return;
    const sequence = (this.seq.get(e.conversationId) ?? 0) + 1;
    this.seq.set(e.conversationId, sequence);
    if (this.seq.size > 10_000) this.seq.delete(this.seq.keys().next().value!);
    await this.journal.put(eventId, { eventId, sequence, occurredAt: this.now().toISOString(), ...e });
    this.stats.published++;
    this.kick();
  }

  /** Start delivering what the journal holds (after a restart: the previous run's undelivered events first). */
  start(): void {
    if (this.journal.size > 0) this.log.warn({ events: this.journal.size, sink: this.sink.kind }, 'delivering participant events left undelivered by the previous run');
    this.kick();
  }

  /** A loop waiting out a failure keeps its backoff: new events must not hammer a sink that is down. */
  private kick(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.looping = this.loop().finally(() => (this.running = false));
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      const batch = this.journal.pending().slice(0, MAX_BATCH).map((e) => e.step);
      if (batch.length === 0) return;
      try {
        await this.sink.send(batch);
        // Together: the journal commits them with one sync.
        await Promise.all(batch.map((e) => this.journal.done(e.eventId)));
        this.stats.delivered += batch.length;
        this.delayMs = 0;
      } catch (e) {
        this.stats.failures++;
        this.delayMs = Math.min(5000, Math.max(100, this.delayMs * 2));
        this.log.warn({ err: (e as Error).message, sink: this.sink.kind, pending: this.journal.size, retryInMs: this.delayMs }, 'participant events not delivered: kept, retried');
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.delayMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Stops delivering: a send in flight ends (the sink closes under it) before the journal may close. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.sink.close();
    await this.looping;
  }
}
