/**
 * The simulator's reader of the participant-event topic, as the platform's own consumer would be:
 * it outlives broker outages. A consumer whose stream fails, whose heartbeat fails, or whose
 * heartbeat has been silent for 10 s is replaced by a new one that reads the topic from the start
 * and skips what was already read (by partition offset), so an outage costs no event and repeats
 * none: a repeat the checker sees is one the provider sent.
 */
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { ensureTopic } from '../events.js';

const STALE_MS = 10_000;

export class TopicWatcher {
  private closed = false;
  private readonly read = new Map<number, bigint>();
  private restart?: () => void;
  private generation = 0;
  private loop?: Promise<void>;

  constructor(private readonly o: { brokers: string[]; topic: string; group: string; log: Logger; onMessage(value: string): void }) {}

  /** Create the topic when missing, then keep reading it until close(). */
  async start(): Promise<void> {
    await ensureTopic({ brokers: this.o.brokers, topic: this.o.topic, clientId: `${this.o.group}-admin` });
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const consumer = new Consumer<string, string, string, string>({ groupId: `${this.o.group}-${++this.generation}`, clientId: this.o.group, bootstrapBrokers: this.o.brokers, deserializers: stringDeserializers });
      try {
        const stream = await consumer.consume({ topics: [this.o.topic], mode: 'earliest' });
        // Until the stream fails, the heartbeat fails or goes quiet, or close(): then a new consumer.
        let watchdog: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.restart = resolve;
          stream.on('data', (m: { partition: number; offset: bigint; value: string }) => {
            const last = this.read.get(m.partition);
            if (last !== undefined && m.offset <= last) return;
            this.read.set(m.partition, m.offset);
            this.o.onMessage(m.value);
          });
          stream.once('error', () => resolve());
          stream.once('close', () => resolve());
          consumer.once('consumer:heartbeat:error', () => resolve());
          watchdog = setInterval(() => {
            const hb = consumer.lastHeartbeat?.getTime();
            if (hb !== undefined && Date.now() - hb > STALE_MS) resolve();
          }, 2000);
        });
        clearInterval(watchdog);
      } catch (e) {
        this.o.log.debug({ err: (e as Error).message }, 'ccaas sim: Kafka consumer could not start; retried');
      }
      this.restart = undefined;
      // Bounded: closing a consumer whose broker is gone may wait for it.
      await Promise.race([new Promise<void>((r) => consumer.close(true, () => r())), new Promise((r) => setTimeout(r, 2000).unref())]);
      if (!this.closed) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.restart?.();
    await this.loop;
  }
}
