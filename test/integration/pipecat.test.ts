/**
 * Pipecat end to end: the example bot (examples/pipecat/bot.py, Pipecat from PyPI, its own
 * parse_telephony_websocket, TwilioFrameSerializer and FastAPIWebsocketTransport, unchanged)
 * answers real calls the LiveVox sandbox places through SIP and RTP. Its echo carries the caller's
 * tone back (audio both ways, the ids in customParameters, from_number/to_number), and it ends
 * calls the three ways Pipecat bots do: a normal close, Twilio's REST hang-up (the serializer's
 * auto_hang_up pointed at the gateway), and the gateway's hangup event with a term code. Each call
 * gets exactly one term code and the agent is Ready again; the bot is never dialled twice.
 * `.ci/run` installs Pipecat into .venv-pipecat (PIPECAT_PYTHON overrides the interpreter).
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
const TOKEN = 'pipecat-rest-token-0123456789';

let gw: RunningGateway;
let bot: ChildProcess;
const botLines: string[] = [];
const sim = () => livevoxSandbox(gw).simulator;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

beforeAll(async () => {
  process.env['VAGW_TEST_DATA'] = mkdtempSync(path.join(tmpdir(), 'vagw-pipecat-'));
  const port = await freePort();
  gw = await startFixture('pipecat-gateway.yaml', (c) => {
    for (const name of ['pc-close', 'pc-rest', 'pc-event', 'pc-interrupt']) c.engines[name]!.url = c.engines[name]!.url.replace('127.0.0.1:9', `127.0.0.1:${port}`);
  });
  bot = spawn(PYTHON, [path.join(ROOT, 'examples', 'pipecat', 'bot.py'), String(port)], {
    env: { ...process.env, VAGW_REST_BASE: `http://127.0.0.1:${gw.httpPort}`, VAGW_REST_TOKEN: TOKEN, VAGW_ACCOUNT_SID: 'pipecat-it', BOT_END_AFTER_S: '1.5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bot.stdout!.on('data', (d: Buffer) => botLines.push(...d.toString().split('\n').filter(Boolean)));
  bot.stderr!.on('data', (d: Buffer) => botLines.push(...d.toString().split('\n').filter(Boolean)));
  await waitFor(() => bot.exitCode === null, 100, 'bot running');
  for (const t0 = Date.now(); !(await listening(port)); ) {
    if (bot.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`the Pipecat bot did not start (${PYTHON}):\n${botLines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await waitFor(() => ['pc-01', 'pc-02', 'pc-03', 'pc-04'].every((u) => sim().state.agent(u)?.state === 'READY'), 10_000, 'agents Ready at LiveVox');
}, 90_000);

afterAll(async () => {
  bot?.kill('SIGTERM');
  await gw?.shutdown(0);
});

async function callThrough(agent: string, tid: string): Promise<string[]> {
  const starts = botLines.filter((l) => l.startsWith('start ')).length;
  sim().startCall(agent, { transactionId: tid, sessionId: `${tid}@10.0.0.1`, phoneNumber: '3125550123' });
  await waitFor(() => livevoxSandbox(gw).placer?.find(tid) !== undefined, 3000, 'placed');
  const placed = livevoxSandbox(gw).placer!.find(tid)!;
  // The caller's 440 Hz tone comes back through Pipecat's echo: audio both ways.
  await waitFor(() => hasSustainedTone(placed.receivedSamples(), 440, 300, 0.6), 8000, 'the tone echoed by Pipecat');
  await waitFor(() => sim().state.agent(agent)?.state === 'READY' && sim().state.call(tid)!.termCodes.length > 0, 10_000, `${agent} Ready again`).catch((e: Error) => { throw new Error(`${e.message}\n${botLines.slice(-15).join('\n')}`); });
  expect(botLines.filter((l) => l.startsWith('start ')).length).toBe(starts + 1);
  return sim().state.call(tid)!.termCodes.map((t) => t.termCodeName);
}

describe('Pipecat (pipecat-ai from PyPI) as the engine', () => {
  it('a normal close (EndFrame, auto_hang_up off): the call ends as completed, once, never redialled', async () => {
    expect(await callThrough('pc-01', '910000000001')).toEqual(['Bot Completed']);
    expect(botLines.some((l) => /^start call_id=CA\w+ from=\+13125550123 to=\S+/.test(l))).toBe(true);
  }, 30_000);

  it("Twilio's REST hang-up (auto_hang_up on, base URL = the gateway): completed, once", async () => {
    expect(await callThrough('pc-02', '910000000002')).toEqual(['Bot Completed']);
    const rec = [...gw.calls.callStats.ended.entries()];
    expect(rec.length).toBeGreaterThan(0);
  }, 30_000);

  it("the gateway's hangup event with a term code, sent as a Pipecat transport message", async () => {
    expect(await callThrough('pc-03', '910000000003')).toEqual(['AI Failure']);
  }, 30_000);

  it("barge-in: Pipecat's InterruptionFrame becomes clear, the gateway drops the bot's queued audio (counted in the call's record)", async () => {
    expect(await callThrough('pc-04', '910000000004')).toEqual(['Bot Completed']);
    expect(botLines).toContain('interrupting');
    const rec = gw.calls.recentCalls(10).find((c) => c.info.agentId === 'pc-04')!;
    await rec.recorded;
    expect(rec.finalStats!.engineClears).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('vagw engine-check against the Pipecat bot: audio back, a normal close noted, no problem', async () => {
    const { engineCheck } = await import('../../src/engine-check.js');
    const port = new URL(gw.config.engines['pc-close']!.url).port;
    const findings = await engineCheck(`ws://127.0.0.1:${port}/ws?mode=close`, { protocol: 'twilio', seconds: 2.5, connectTimeoutMs: 5000 });
    expect(findings.filter((f) => f.verdict === 'FAIL')).toEqual([]);
    expect(findings.map((f) => f.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^sends audio back/), expect.stringMatching(/^closed the socket normally \(1000/)]));
  }, 30_000);
});
