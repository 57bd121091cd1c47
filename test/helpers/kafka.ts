/**
 * A real Apache Kafka broker for the tests: one node in KRaft mode (broker and controller) on
 * loopback, run with the machine's Java from the jars `scripts/kafka-fetch` put in
 * .cache/kafka/lib (fetched here first when missing). It can be stopped and started again on the
 * same ports and log directory, as an outage the producer must ride out.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { tcpAnswers } from './net.js';
import { freePort } from './sipp.js';
import { waitFor } from './test-engine.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const LIB = path.join(ROOT, '.cache', 'kafka', 'lib');

export interface TestBroker {
  readonly address: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  readonly output: string[];
}

export async function startBroker(): Promise<TestBroker> {
  if (!existsSync(path.join(LIB, '.complete'))) execFileSync(path.join(ROOT, 'scripts', 'kafka-fetch'), { stdio: 'inherit' });
  const dir = mkdtempSync(path.join(tmpdir(), 'vagw-kafka-'));
  const [port, controller] = [await freePort(), await freePort()];
  const props = path.join(dir, 'server.properties');
  writeFileSync(props, [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${path.join(dir, 'data')}`,
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n'));
  const cp = `${LIB}/*`;
  execFileSync('java', ['-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', randomBytes(16).toString('base64url'), '-c', props], { stdio: 'ignore' });
  let child: ChildProcess | undefined;
  const output: string[] = [];
  const broker: TestBroker = {
    address: `127.0.0.1:${port}`,
    output,
    async start() {
      child = spawn('java', ['-Xmx384m', '-XX:+UseSerialGC', '-cp', cp, 'kafka.Kafka', props], { stdio: ['ignore', 'pipe', 'pipe'] });
      for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean).slice(-50)));
      const until = Date.now() + 60_000;
      while (!(await tcpAnswers(port))) {
        if (child.exitCode !== null) throw new Error(`kafka broker exited (${child.exitCode}): ${output.slice(-10).join('\n')}`);
        if (Date.now() > until) throw new Error(`kafka broker not listening on ${port} within 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
  };
  await broker.start();
  return broker;
}

let readers = 0;

/**
 * The JSON messages on `topic` that `keep` accepts, read by a fresh consumer from the start, once
 * at least `want` are there (then 500 ms more: a duplicate would have come with them).
 */
export async function readTopic<T>(broker: string, topic: string, keep: (m: T) => boolean, want: number): Promise<T[]> {
  const consumer = new Consumer<string, string, string, string>({ groupId: `test-read-${process.pid}-${++readers}`, clientId: 'test-reader', bootstrapBrokers: [broker], deserializers: stringDeserializers });
  const got: T[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
    stream.on('data', (m: { value: string }) => {
      const v = JSON.parse(m.value) as T;
      if (keep(v)) got.push(v);
    });
    stream.on('error', () => undefined);
    await waitFor(() => got.length >= want, 20_000, `${want} messages on ${topic}`);
    await new Promise((r) => setTimeout(r, 500));
    await stream.close();
  } finally {
    await new Promise<void>((r) => consumer.close(true, () => r()));
  }
  return got;
}
