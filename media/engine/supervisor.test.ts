import { describe, expect, it } from 'vitest';
import { EngineSupervisor, type EngineOpener } from './supervisor.js';
import type { EngineHandlers, EngineLink } from './link.js';
import type { OpenRequest } from '../types.js';

const req = (reconnectWindowMs = 500): OpenRequest => ({
  callId: 'c1',
  engine: { kind: 'ws', name: 'e', url: 'ws://127.0.0.1:9/', protocol: 'twilio', connectTimeoutMs: 100, tlsRejectUnauthorized: true },
  meta: { callSid: 'CA1', streamSid: 'MZ1', accountSid: 'gw', sipCallId: 'c1', agentId: 'a', number: '1', caller: '2', dnis: '3', profile: 'p', vendor: {}, custom: {} },
  failure: { policy: 'hangup', reconnectWindowMs },
});

function link(log: string[]): EngineLink {
  return { format: 'mulaw8k', sendAudio() {}, sendDtmf() {}, sendMark() {}, sendEvent() {}, sendError() {}, stop: (r) => void log.push(`stop:${r}`) };
}

function harness(results: ('ok' | 'fail')[], window = 500) {
  const log: string[] = [];
  const handlers: EngineHandlers[] = [];
  const open: EngineOpener = async (_t, _r, reconnect, h, timeout) => {
    log.push(`open:${reconnect}:${timeout}`);
    handlers.push(h);
    if (results.shift() === 'fail') throw new Error('refused');
    return link(log);
  };
  const sup = new EngineSupervisor(req(window), open, {
    audio() {}, mark() {}, clear() {}, control: (ev) => void log.push(`control:${ev.type}${'termCode' in ev && ev.termCode ? `:${ev.termCode}` : ''}`),
    lost: (d) => void log.push(`lost:${d}`),
    failed: (d) => void log.push(`failed:${d}`),
  });
  return { sup, log, handlers };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('EngineSupervisor', () => {
  it('retries once, with reconnect and the window as timeout, when the first connect fails', async () => {
    const { sup, log } = harness(['fail', 'ok']);
    sup.start();
    await settle();
    expect(log).toEqual(['open:false:100', 'lost:engine ws://127.0.0.1:9/ unreachable: refused', 'open:true:500']);
    expect(sup.up).toBeDefined();
  });

  it('reports failed exactly once after the retry fails too', async () => {
    const { sup, log } = harness(['fail', 'fail']);
    sup.start();
    await settle();
    await settle();
    expect(log.filter((l) => l.startsWith('failed:'))).toHaveLength(1);
    expect(sup.up).toBeUndefined();
  });

  it('reconnects after a mid-call drop, then fails on the second drop', async () => {
    const { sup, log, handlers } = harness(['ok', 'ok']);
    sup.start();
    await settle();
    handlers[0]!.closed({ code: 1011, reason: 'x', byUs: false });
    await settle();
    expect(log).toContain('open:true:500');
    handlers[1]!.closed({ code: 1006, reason: '', byUs: false });
    expect(log.at(-1)).toBe('failed:engine socket closed (1006)');
    expect(sup.reconnects).toBe(1);
  });

  it('does not reconnect after stop, and ignores closes it caused', async () => {
    const { sup, log, handlers } = harness(['ok']);
    sup.start();
    await settle();
    sup.stop('call ended');
    handlers[0]!.closed({ code: 1000, reason: 'call ended', byUs: true });
    expect(log).toEqual(['open:false:100', 'stop:call ended']);
  });

  it('a close of ours before stop (engine over a limit) is a lost link: it reconnects', async () => {
    const { sup, log, handlers } = harness(['ok', 'ok']);
    sup.start();
    await settle();
    handlers[0]!.closed({ code: 1009, reason: 'engine sent a frame larger than 65536 bytes', byUs: true });
    await settle();
    expect(log).toEqual(['open:false:100', 'lost:engine socket closed (1009 engine sent a frame larger than 65536 bytes)', 'open:true:500']);
  });

  it('with no reconnect window, fails at once', async () => {
    const { sup, log } = harness(['fail'], 0);
    sup.start();
    await settle();
    expect(log.at(-1)).toMatch(/^failed:/);
  });

  it('a normal close (1000) is the engine ending the call: a hang-up, no reconnect, no failure', async () => {
    const { sup, log, handlers } = harness(['ok', 'ok']);
    sup.start();
    await settle();
    handlers[0]!.closed({ code: 1000, reason: 'bye', byUs: false });
    await settle();
    expect(log).toEqual(['open:false:100', 'control:hangup']);
    expect(sup.up).toBeUndefined();
  });

  it('after the engine hung up, its socket closing (even abnormally, a few ms later) never dials it again', async () => {
    const { sup, log, handlers } = harness(['ok', 'ok']);
    sup.start();
    await settle();
    handlers[0]!.control({ type: 'hangup', termCode: 'Done' });
    handlers[0]!.closed({ code: 1006, reason: '', byUs: false });
    await settle();
    expect(log).toEqual(['open:false:100', 'control:hangup:Done']);
  });
});
