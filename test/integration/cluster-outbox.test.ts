/**
 * The cluster's outbox in a real Redis (AOF, fsync always): what one node wrote for an agent is
 * read by the node that takes the agent over, as that node's inheritance; entries confirmed are
 * gone for everyone; a write made while Redis is down waits for it and lands; a Redis restart
 * keeps every entry it confirmed.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisOutbox } from '../../src/cluster/outbox.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

interface Step {
  agentId: string;
  kind: string;
}

let redis: TestRedis;
const log = pino({ level: 'silent' });

function outbox(incarnation: string, prefix = 'vagw:t:wrapup'): RedisOutbox<Step> {
  return new RedisOutbox<Step>(redis.connect(), prefix, incarnation, log);
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
});

describe('RedisOutbox', () => {
  it('a taken-over agent: the new owner reads what the dead owner left, as inherited; done is done for all', async () => {
    const a = outbox('node-a/1');
    await a.put('c1:0:termCode', { agentId: 'ag1', kind: 'termCode' });
    await a.put('c1:1:ready', { agentId: 'ag1', kind: 'ready' });
    await a.put('c2:0:termCode', { agentId: 'ag2', kind: 'termCode' });
    // A repeated put keeps the first; replace takes the new one.
    await a.put('c1:0:termCode', { agentId: 'ag1', kind: 'other' });
    expect(a.pending().map((e) => e.step.kind).sort()).toEqual(['ready', 'termCode', 'termCode']);

    const b = outbox('node-b/1');
    expect(b.size).toBe(0);
    expect(await b.load('ag1')).toBe(2);
    expect(b.pending().map((e) => e.id).sort()).toEqual(['c1:0:termCode', 'c1:1:ready']);
    expect(b.inherited('ag1').map((e) => e.id).sort()).toEqual(['c1:0:termCode', 'c1:1:ready']);
    expect(b.inherited('ag1')[0]!.createdAt).toBeGreaterThan(0);
    await b.done('c1:0:termCode');
    await b.put('c3:0:termCode', { agentId: 'ag1', kind: 'termCode' });
    expect(b.inherited('ag1').map((e) => e.id)).toEqual(['c1:1:ready']);

    // Back to the first node: what it reads is what Redis has, not what it had.
    a.forget('ag1');
    expect(a.pending().map((e) => e.id)).toEqual(['c2:0:termCode']);
    expect(await a.load('ag1')).toBe(2);
    expect(a.pending().map((e) => e.id).sort()).toEqual(['c1:1:ready', 'c2:0:termCode', 'c3:0:termCode']);
  });

  it('Redis down: the write waits for it and lands; a restart keeps every confirmed entry', async () => {
    const a = outbox('node-a/2', 'vagw:t2:wrapup');
    await a.put('k1', { agentId: 'x', kind: 'termCode' });
    await redis.stop('SIGKILL');
    let landed = false;
    const w = a.put('k2', { agentId: 'x', kind: 'ready' }).then(() => (landed = true));
    await new Promise((r) => setTimeout(r, 400));
    expect(landed).toBe(false);
    await redis.start();
    await w;
    expect(landed).toBe(true);
    await redis.stop();
    await redis.start();
    const b = outbox('node-b/2', 'vagw:t2:wrapup');
    // The first connection may still be reconnecting: read until Redis answers.
    let n = -1;
    for (let i = 0; i < 50 && n < 0; i++) n = await b.load('x').catch(async () => (await new Promise((r) => setTimeout(r, 100)), -1));
    expect(n).toBe(2);
    expect(b.pending().map((e) => e.step.kind).sort()).toEqual(['ready', 'termCode']);
  });
});
