/**
 * `vagw engine-check <ws-url>`: plays one scripted call against an engine, the way the gateway
 * would (docs/engine-protocol.md), and reports what the engine did right and wrong.
 *
 * The script: connect (Bearer token when a secret is given), `connected` + `start`, caller audio
 * (a 1 kHz tone, paced 20 ms) for `seconds`, a DTMF digit halfway, `stop`, then wait for the
 * engine to close. Every message the engine sends is validated with the gateway's own parser;
 * marks are echoed back as the gateway does once their audio has played, and a `clear` returns
 * the pending ones. Each finding is a line: PASS, FAIL (breaks the protocol) or NOTE.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { encodeMuLaw } from '../media/codec/g711.js';
import { ToneGenerator } from '../media/dsp/tone.js';
import { signEngineToken } from '../media/engine/token.js';
import { parseEngineMessage, startBody } from '../media/engine/wire.js';
import type { EngineProtocol, StreamMeta } from '../media/engine/types.js';

export interface CheckOptions {
  protocol: EngineProtocol;
  secret?: string;
  seconds: number;
  connectTimeoutMs: number;
}

export type Finding = { verdict: 'PASS' | 'FAIL' | 'NOTE'; text: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function engineCheck(url: string, o: CheckOptions): Promise<Finding[]> {
  const out: Finding[] = [];
  const pass = (text: string): void => void out.push({ verdict: 'PASS', text });
  const fail = (text: string): void => void out.push({ verdict: 'FAIL', text });
  const note = (text: string): void => void out.push({ verdict: 'NOTE', text });
  const meta: StreamMeta = {
    callSid: `CA${randomBytes(16).toString('hex')}`,
    streamSid: `MZ${randomBytes(16).toString('hex')}`,
    accountSid: 'engine-check',
    sipCallId: `engine-check-${Date.now()}@127.0.0.1`,
    agentId: 'va-check',
    number: '+18990000001',
    caller: '+13125550100',
    dnis: '8005550100',
    profile: 'engine-check',
    vendor: {},
    custom: {},
  };
  const headers: Record<string, string> = o.secret ? { authorization: `Bearer ${signEngineToken(meta, o.secret)}` } : {};
  const ws = new WebSocket(url, { headers, handshakeTimeout: o.connectTimeoutMs });
  const opened = await new Promise<string | null>((resolve) => {
    ws.once('open', () => resolve(null));
    ws.once('unexpected-response', (_q, res) => resolve(`answered the upgrade with HTTP ${res.statusCode}`));
    ws.once('error', (e) => resolve(e.message));
  });
  if (opened !== null) {
    fail(`connect: ${opened}`);
    return out;
  }
  pass('accepts the WebSocket connection');

  let audioFrames = 0;
  let audioBytes = 0;
  let invalid = 0;
  const marks: string[] = [];
  let clears = 0;
  const controls: string[] = [];
  let closed: { code: number; reason: string; afterStop: boolean } | undefined;
  let stopped = false;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const m = parseEngineMessage(data, isBinary, o.protocol, meta.streamSid);
    switch (m.kind) {
      case 'audio':
        audioFrames++;
        audioBytes += m.payload.length;
        return;
      case 'mark':
        marks.push(m.name);
        // The gateway echoes a mark once the audio queued before it has played.
        ws.send(JSON.stringify({ event: 'mark', streamSid: meta.streamSid, mark: { name: m.name } }));
        return;
      case 'clear':
        clears++;
        return;
      case 'control':
        controls.push(m.control.type);
        return;
      case 'error':
        if (++invalid <= 10) fail(`message rejected by the gateway (${m.code}): ${m.message}`);
        return;
    }
  });
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString('utf8'), afterStop: stopped }));

  const send = (ev: Record<string, unknown>): void => ws.send(JSON.stringify(ev));
  send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  send({ event: 'start', sequenceNumber: '1', streamSid: meta.streamSid, ...startBody(o.protocol, meta, false) });
  const rate = o.protocol === 'twilio' ? 8000 : 16000;
  const tone = new ToneGenerator([1000], rate, 8000);
  const frames = Math.round((o.seconds * 1000) / 20);
  const t0 = performance.now();
  for (let i = 0; i < frames && !closed; i++) {
    const pcm = tone.next(rate / 50);
    if (o.protocol === 'twilio') {
      send({ event: 'media', sequenceNumber: String(i + 2), streamSid: meta.streamSid, media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload: Buffer.from(encodeMuLaw(pcm)).toString('base64') } });
    } else {
      ws.send(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), { binary: true });
    }
    if (i === Math.floor(frames / 2)) send({ event: 'dtmf', streamSid: meta.streamSid, dtmf: { track: 'inbound_track', digit: '5' } });
    const due = t0 + (i + 1) * 20 - performance.now();
    if (due > 0) await sleep(due);
  }
  const elapsed = (performance.now() - t0) / 1000;
  if (closed) {
    if (closed.code === 1000) note(`closed the socket normally (1000${closed.reason ? ` ${closed.reason}` : ''}) during the call: the gateway treats it as the engine hanging up`);
    else fail(`closed the socket during the call with ${closed.code}${closed.reason ? ` (${closed.reason})` : ''}: the gateway treats it as an engine failure`);
  } else {
    stopped = true;
    send({ event: 'stop', sequenceNumber: String(frames + 2), streamSid: meta.streamSid, stop: { accountSid: meta.accountSid, callSid: meta.callSid } });
    for (let i = 0; i < 100 && !closed; i++) await sleep(20);
    if (closed) pass('closes the socket after stop');
    else {
      note('kept the socket open 2 s after stop (the gateway closes it with 1000 itself)');
      ws.close(1000, 'engine-check done');
    }
  }

  const expectBytes = o.protocol === 'twilio' ? 160 : 640;
  if (audioFrames === 0) fail('sent no audio back (no valid media)');
  else {
    pass(`sends audio back: ${audioFrames} frame(s), ${(audioBytes / (o.protocol === 'twilio' ? 8000 : 32000)).toFixed(2)} s of ${o.protocol === 'twilio' ? 'mu-law 8 kHz' : 'L16 16 kHz'} in ${elapsed.toFixed(2)} s`);
    if (audioBytes / audioFrames < expectBytes / 4) note(`audio frames are small (average ${Math.round(audioBytes / audioFrames)} bytes; ${expectBytes} is 20 ms): many tiny messages cost the engine and the gateway`);
  }
  if (invalid === 0) pass('every message it sent follows the protocol');
  else if (invalid > 10) fail(`${invalid - 10} more rejected message(s) not listed`);
  note(marks.length ? `mark round trip: ${marks.length} mark(s) sent and echoed back` : 'sent no mark (marks tell an engine when its audio has played; optional)');
  if (clears) note(`sent clear ${clears} time(s) (barge-in)`);
  if (controls.length) note(`call control: ${controls.join(', ')}`);
  return out;
}

/** The report as printed by the CLI; exit code 1 when anything failed. */
export function report(url: string, findings: Finding[]): { text: string; code: number } {
  const lines = [`engine-check ${url}`, ...findings.map((f) => `${f.verdict.padEnd(4)}  ${f.text}`)];
  const failed = findings.filter((f) => f.verdict === 'FAIL').length;
  lines.push(failed ? `${failed} problem(s): see docs/engine-protocol.md` : 'no problems found');
  return { text: lines.join('\n'), code: failed ? 1 : 0 };
}
