import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AttachHub } from './attach-hub.js';
import type { FarEndHandlers } from './far-end.js';
import type { StreamMeta } from '../../../media/types.js';

const TOKEN = 'attach-token-0123456789';
const AGENTS: Record<string, string> = { 'va-002': 'va-002', '+18990000002': 'va-002', 'va-003': 'va-003' };

let server: http.Server;
let hub: AttachHub;
let url: string;

beforeEach(async () => {
  hub = new AttachHub({ token: TOKEN, resolveAgent: (r) => AGENTS[r], log: pino({ level: 'silent' }) });
  server = http.createServer((_q, s) => s.end());
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/webrtc`;
});
afterEach(async () => {
  hub.close();
  await new Promise((r) => server.close(r));
});

/** A connected client with a queue of received messages. */
async function connect(token = TOKEN): Promise<{ ws: WebSocket; next(): Promise<Record<string, unknown>>; send(m: unknown): void }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  return {
    ws,
    next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))),
    send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
  };
}

function refusal(headers: Record<string, string>, path = '/webrtc'): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace('/webrtc', path), { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
    ws.on('error', () => undefined);
  });
}

function recorder(): FarEndHandlers & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    answer: (sdp) => log.push(`answer:${sdp}`),
    candidate: (c) => log.push(`candidate:${c}`),
    failed: (r) => log.push(`failed:${r}`),
    control: (ev) => log.push(`control:${JSON.stringify(ev)}`),
    gone: (r) => log.push(`gone:${r}`),
  };
}

const META = { callSid: 'CA1', agentId: 'va-002', custom: {} } as unknown as StreamMeta;

describe('AttachHub (/webrtc)', () => {
  it('refuses a missing token with 401, a wrong one with 403, and everything when no token is configured', async () => {
    expect(await refusal({})).toBe(401);
    expect(await refusal({ authorization: 'Bearer wrong-token-0123456789' })).toBe(403);
    hub.close();
    hub = new AttachHub({ resolveAgent: () => undefined, log: pino({ level: 'silent' }) });
    expect(await refusal({ authorization: `Bearer ${TOKEN}` })).toBe(403);
  });

  it('claims agents by id or number; a second engine cannot claim a claimed agent', async () => {
    const a = await connect();
    a.send({ type: 'claim', agents: ['+18990000002', 'nobody'] });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'unknown-agent' });
    expect(await a.next()).toEqual({ type: 'claimed', agents: ['va-002'] });
    expect(hub.unavailable('va-002')).toBeUndefined();
    expect(hub.unavailable('va-003')).toBe('Virtual agent va-003 has no WebRTC endpoint attached');
    const b = await connect();
    b.send({ type: 'claim', agents: ['va-002'] });
    expect(await b.next()).toMatchObject({ type: 'error', code: 'already-claimed' });
    expect(await b.next()).toEqual({ type: 'claimed', agents: [] });
  });

  it('offers a call, takes the answer, candidates and call control, and tells the engine when the call ends', async () => {
    const a = await connect();
    a.send({ type: 'claim', agents: ['va-002'] });
    await a.next();
    const h = recorder();
    const far = hub.create('va-002', 'call-1', h);
    far.offer('v=0 offer', META);
    expect(await a.next()).toMatchObject({ type: 'offer', callId: 'call-1', agent: 'va-002', sdp: 'v=0 offer', meta: { callSid: 'CA1' } });
    a.send({ type: 'control', callId: 'call-1', control: { type: 'hangup' } });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'not-possible' });
    a.send({ type: 'answer', callId: 'call-1', sdp: 'v=0 answer' });
    a.send({ type: 'candidate', callId: 'call-1', candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host' });
    a.send({ type: 'control', callId: 'call-1', control: { type: 'dtmf', digits: '12#' } });
    a.send({ type: 'answer', callId: 'nope', sdp: 'x' });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'unknown-call', callId: 'nope' });
    expect(h.log).toEqual(['answer:v=0 answer', 'candidate:candidate:1 1 udp 1 127.0.0.1 5000 typ host', 'control:{"type":"dtmf","digits":"12#"}']);
    far.end('caller-bye');
    far.end('caller-bye');
    expect(await a.next()).toEqual({ type: 'call-ended', callId: 'call-1', reason: 'caller-bye' });
  });

  it('malformed messages get an error naming the problem and change nothing', async () => {
    const a = await connect();
    a.send('{nope');
    expect(await a.next()).toMatchObject({ type: 'error', code: 'invalid-json' });
    a.send({ type: 'dance' });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'unknown-event', message: expect.stringContaining("'dance'") });
    a.send({ type: 'claim', agents: [] });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'invalid-message', message: expect.stringContaining("'agents'") });
    a.send({ type: 'control', callId: 'c', control: { type: 'dtmf', digits: 'xyz' } });
    expect(await a.next()).toMatchObject({ type: 'error', message: expect.stringContaining('digits') });
    a.send({ type: 'answer', callId: 'c' });
    expect(await a.next()).toMatchObject({ type: 'error', message: "'sdp' must be a non-empty string" });
  });

  it('a socket that closes fails its unanswered calls, ends its answered ones and frees its claims', async () => {
    const a = await connect();
    a.send({ type: 'claim', agents: ['va-002', 'va-003'] });
    await a.next();
    const h1 = recorder();
    const h2 = recorder();
    hub.create('va-002', 'c1', h1).offer('o1', META);
    hub.create('va-003', 'c2', h2).offer('o2', META);
    await a.next();
    await a.next();
    a.send({ type: 'answer', callId: 'c1', sdp: 'a1' });
    await expect.poll(() => h1.log.length).toBe(1);
    a.ws.close();
    await expect.poll(() => h1.log.length + h2.log.length).toBe(3);
    expect(h1.log[1]).toBe('gone:attached engine disconnected');
    expect(h2.log).toEqual(['failed:attached engine disconnected']);
    expect(hub.unavailable('va-002')).toBeDefined();
  });
});
