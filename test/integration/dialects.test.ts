/**
 * Stream dialects end to end: engines written from jambonz's and Asterisk's documentation only
 * (examples/jambonz/bot.py, examples/asterisk/app.py, Python `websockets`) answer real calls the
 * LiveVox sandbox places through SIP and RTP, unchanged: the caller's tone comes back through
 * their echo, their marks come back played (or cleared by a barge-in), jambonz's killAudio and
 * Asterisk's FLUSH_MEDIA drop the queued prompt, Asterisk's bulk buffering, status and drain
 * reports work, and the way each ends a call (disconnect, a normal close, HANGUP) wraps it up
 * once. `.ci/run` installs the interpreter with `websockets` (.venv-pipecat; PIPECAT_PYTHON).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSustainedTone } from '../../media/dsp/goertzel.js';
import type { RunningGateway } from '../../src/server.js';
import { livevoxSandbox, startFixture } from '../helpers/gateway.js';
import { freePort } from '../helpers/sipp.js';
import { waitFor } from '../helpers/test-engine.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PYTHON = process.env['PIPECAT_PYTHON'] ?? path.join(ROOT, '.venv-pipecat', 'bin', 'python');

let gw: RunningGateway;
const engines: { proc: ChildProcess; lines: string[] }[] = [];
const jambonz = () => engines[0]!.lines;
const asterisk = () => engines[1]!.lines;
const sim = () => livevoxSandbox(gw).simulator;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

async function runEngine(script: string, port: number): Promise<void> {
  const lines: string[] = [];
  const proc = spawn(PYTHON, [path.join(ROOT, 'examples', script), String(port)], { env: { ...process.env, BOT_END_AFTER_S: '1.8' }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const s of [proc.stdout!, proc.stderr!]) s.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  engines.push({ proc, lines });
  for (const t0 = Date.now(); !(await listening(port)); ) {
    if (proc.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`${script} did not start (${PYTHON}):\n${lines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  process.env['VAGW_TEST_DATA'] = mkdtempSync(path.join(tmpdir(), 'vagw-dialects-'));
  const [jp, ap] = [await freePort(), await freePort()];
  await runEngine('jambonz/bot.py', jp);
  await runEngine('asterisk/app.py', ap);
  gw = await startFixture('dialects-gateway.yaml', (c) => {
    for (const e of Object.values(c.engines)) e.url = e.url.replace('127.0.0.1:9/', `127.0.0.1:${jp}/`).replace('127.0.0.1:8/', `127.0.0.1:${ap}/`);
  });
  await waitFor(() => ['dl-01', 'dl-02', 'dl-03', 'dl-04'].every((u) => sim().state.agent(u)?.state === 'READY'), 10_000, 'agents Ready at LiveVox');
}, 60_000);

afterAll(async () => {
  for (const e of engines) e.proc.kill('SIGTERM');
  await gw?.shutdown(0);
});

/** One sandbox call to `agent`: the echoed tone, then the engine's own ending; its term codes. */
async function callThrough(agent: string, tid: string, lines: () => string[]): Promise<{ termCodes: string[]; engineClears: number; engineRejected: number; log: string[] }> {
  const from = lines().length;
  sim().startCall(agent, { transactionId: tid, sessionId: `${tid}@10.0.0.1`, phoneNumber: '3125550123' });
  await waitFor(() => livevoxSandbox(gw).placer?.find(tid) !== undefined, 3000, 'placed');
  const placed = livevoxSandbox(gw).placer!.find(tid)!;
  await waitFor(() => hasSustainedTone(placed.receivedSamples(), 440, 300, 0.6), 8000, 'the tone echoed by the engine')
    .catch((e: Error) => { throw new Error(`${e.message}\n${lines().slice(from).join('\n')}`); });
  await waitFor(() => sim().state.agent(agent)?.state === 'READY' && sim().state.call(tid)!.termCodes.length > 0, 10_000, `${agent} Ready again`)
    .catch((e: Error) => { throw new Error(`${e.message}\n${lines().slice(from).join('\n')}`); });
  await waitFor(() => lines().slice(from).includes('closed'), 3000, 'the engine saw its socket close');
  const rec = gw.calls.recentCalls(20).find((c) => c.info.agentId === agent)!;
  const stats = (await rec.recorded, rec.finalStats!);
  return { termCodes: sim().state.call(tid)!.termCodes.map((t) => t.termCodeName), engineClears: stats.engineClears, engineRejected: stats.engineRejected, log: lines().slice(from) };
}

describe('jambonz listen dialect (a bot written from jambonz docs)', () => {
  it('8 kHz: metadata first, audio both ways, mark playout, killAudio clears the prompt and its mark, disconnect ends the call once', async () => {
    const r = await callThrough('dl-01', '920000000001', jambonz);
    expect(r.termCodes).toEqual(['Bot Completed']);
    expect(r.log[0]).toMatch(/^start callSid=CA\w+ sampleRate=8000 mixType=mono from=\+13125550123 to=\S+ agentId=dl-01$/);
    expect(r.log).toEqual(expect.arrayContaining(['mark echo-1 playout', 'barge-in', 'mark prompt cleared', 'end disconnect']));
    expect(r.engineClears).toBe(1);
    expect(r.engineRejected).toBe(0);
    expect(r.log.filter((l) => l.startsWith('start '))).toHaveLength(1);
  }, 30_000);

  it('16 kHz, ending with a normal close: completed, never redialled', async () => {
    const r = await callThrough('dl-02', '920000000002', jambonz);
    expect(r.termCodes).toEqual(['Bot Completed']);
    expect(r.log[0]).toMatch(/sampleRate=16000/);
    expect(r.log).toEqual(expect.arrayContaining(['mark echo-1 playout', 'mark prompt cleared', 'end close']));
    expect(r.log.filter((l) => l.startsWith('start '))).toHaveLength(1);
  }, 30_000);
});

describe('Asterisk chan_websocket dialect (an app written from Asterisk docs)', () => {
  it('ulaw, JSON control: MEDIA_START, echo, MARK_MEDIA, bulk buffering, GET_STATUS, FLUSH_MEDIA + QUEUE_DRAINED, HANGUP', async () => {
    const r = await callThrough('dl-03', '920000000003', asterisk);
    expect(r.termCodes).toEqual(['Bot Completed']);
    expect(r.log[0]).toMatch(/^start channel_id=CA\w+ format=ulaw optimal_frame_size=160 agentId=dl-03$/);
    expect(r.log).toEqual(expect.arrayContaining(['MEDIA_MARK_PROCESSED echo-1', 'MEDIA_BUFFERING_COMPLETED bulk-1', 'barge-in', 'QUEUE_DRAINED', 'end hangup']));
    expect(r.log.find((l) => l.startsWith('STATUS '))).toMatch(/^STATUS queue_length=\d+ bulk_media=False$/);
    expect(r.engineClears).toBe(1);
    expect(r.engineRejected).toBe(0);
  }, 30_000);

  it('slin16, the plain-text control format: the same script works', async () => {
    const r = await callThrough('dl-04', '920000000004', asterisk);
    expect(r.termCodes).toEqual(['Bot Completed']);
    expect(r.log[0]).toMatch(/^start channel_id=CA\w+ format=slin16 optimal_frame_size=640 agentId=None$/);
    expect(r.log).toEqual(expect.arrayContaining(['MEDIA_MARK_PROCESSED echo-1', 'MEDIA_BUFFERING_COMPLETED bulk-1', 'QUEUE_DRAINED', 'end hangup']));
    expect(r.log.find((l) => l.startsWith('STATUS '))).toMatch(/^STATUS queue_length=\d+ bulk_media=false$/);
  }, 30_000);
});
