/**
 * `vagw engine-check` against engines over real WebSockets: a well-behaved echo engine (PASS, exit
 * 0, its mark echoed), a deliberately broken one whose report names each of its faults (exit 1),
 * and the gateway's built-in echo engine. The Pipecat example bot is checked in pipecat.test.ts.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { engineCheck } from '../../src/engine-check.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
let good: WebSocketServer;
let broken: WebSocketServer;
const marksEchoed: string[] = [];
const url = (s: WebSocketServer, p = ''): string => `ws://127.0.0.1:${(s.address() as { port: number }).port}/${p}`;

beforeAll(async () => {
  // Echoes the caller's audio, sends a mark after its first reply, closes after stop.
  good = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  good.on('connection', (ws: WebSocket) => {
    let sid = '';
    let marked = false;
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Record<string, Record<string, string> & string>;
      if (m['event'] === 'start') sid = m['streamSid'] as unknown as string;
      if (m['event'] === 'media') {
        ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: m['media']!['payload'] } }));
        if (!marked) ws.send(JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: 'greeting' } }));
        marked = true;
      }
      if (m['event'] === 'mark') marksEchoed.push(m['mark']!['name']!);
      if (m['event'] === 'stop') ws.close(1000, 'bye');
    });
  });
  // Gets everything wrong a real engine might.
  broken = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  broken.on('connection', (ws: WebSocket) => {
    let sid = '';
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (m['event'] === 'start') {
        sid = String(m['streamSid']);
        ws.send('this is not JSON');
        ws.send(JSON.stringify({ event: 'media', streamSid: 'MZwrong', media: { payload: 'AAAA' } }));
        ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: '!!!not-base64' } }));
        ws.send(Buffer.alloc(160), { binary: true });
        setTimeout(() => ws.close(1011, 'crashed'), 300);
      }
    });
  });
  await Promise.all([good, broken].map((s) => new Promise((r) => s.once('listening', r))));
});
afterAll(() => {
  good.close();
  broken.close();
});

describe('vagw engine-check', () => {
  it('a well-behaved engine: every check passes, its mark is echoed back, exit code 0', async () => {
    const findings = await engineCheck(url(good), { protocol: 'twilio', seconds: 0.6, connectTimeoutMs: 2000 });
    expect(findings.filter((f) => f.verdict === 'FAIL')).toEqual([]);
    expect(findings.map((f) => f.text)).toEqual(
      expect.arrayContaining([
        'accepts the WebSocket connection',
        'closes the socket after stop',
        'every message it sent follows the protocol',
        'mark round trip: 1 mark(s) sent and echoed back',
        expect.stringMatching(/^sends audio back: 30 frame\(s\), 0\.60 s of mu-law 8 kHz/),
      ]),
    );
    expect(marksEchoed).toEqual(['greeting']);
    const cli = await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli.js'), 'engine-check', url(good), '--seconds', '0.4']);
    expect(cli.stdout).toMatch(/^PASS  accepts the WebSocket connection$/m);
    expect(cli.stdout).toMatch(/no problems found\n$/);
  });

  it('a broken engine: each fault named, exit code 1', async () => {
    const findings = await engineCheck(url(broken), { protocol: 'twilio', seconds: 1, connectTimeoutMs: 2000 });
    const fails = findings.filter((f) => f.verdict === 'FAIL').map((f) => f.text);
    expect(fails).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/not (valid )?JSON/i),
        expect.stringMatching(/streamSid/),
        expect.stringMatching(/base64/i),
        expect.stringMatching(/binary frames are not used by the twilio protocol/),
        expect.stringMatching(/closed the socket during the call with 1011 \(crashed\)/),
        'sent no audio back (no valid media)',
      ]),
    );
    const cli = await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli.js'), 'engine-check', url(broken), '--seconds', '0.5']).catch((e: { code: number; stdout: string }) => e);
    expect((cli as { code: number }).code).toBe(1);
    expect((cli as { stdout: string }).stdout).toMatch(/problem\(s\): see docs\/engine-protocol.md/);
  });

  it('the built-in echo engine (served over the protocol by `engine-check builtin:echo`): its audio comes back, it closes after stop, exit 0', async () => {
    const cli = await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli.js'), 'engine-check', 'builtin:echo', '--seconds', '0.6']);
    expect(cli.stdout).toMatch(/^engine-check builtin:echo \(ws:\/\/127\.0\.0\.1:\d+\/builtin\/echo\)$/m);
    expect(cli.stdout).toMatch(/^PASS  sends audio back: 30 frame\(s\), 0\.60 s of mu-law 8 kHz/m);
    expect(cli.stdout).toMatch(/^PASS  closes the socket after stop$/m);
    expect(cli.stdout).toMatch(/^PASS  every message it sent follows the protocol$/m);
    expect(cli.stdout).toMatch(/no problems found\n$/);
  });
});
