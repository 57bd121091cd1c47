/**
 * A real AI-engine WebSocket server for integration tests (127.0.0.1, ephemeral port). It records
 * what the gateway sends (messages, start metadata, decoded audio, digits, marks, errors) and
 * can play tones, marks, clears, control events and raw frames back.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { decodeMuLaw, encodeMuLaw } from '../../media/codec/g711.js';
import { hasTone } from '../../media/dsp/goertzel.js';
import { ToneGenerator } from '../../media/dsp/tone.js';
import { verifyEngineToken, type EngineTokenPayload } from '../../media/engine/token.js';
import type { EngineControl, EngineProtocol } from '../../media/engine/types.js';
import { controlMessage, SAMPLE_RATE } from '../../media/engine/wire.js';

/** A JSON message as the engine received it. */
export interface EngineMessage { event: string; sequenceNumber?: string; streamSid?: string; [key: string]: unknown }

export interface TestEngineOptions {
  protocol?: EngineProtocol;
  secret?: string;
  onConnection?: (c: TestEngineCall) => void;
  /** HTTP status to refuse every upgrade with. */
  rejectWith?: number;
}

export interface TestEngine {
  url: string;
  port: number;
  calls: TestEngineCall[];
  /** Why upgrades were refused (token problems), in order. */
  rejections: string[];
  waitForCall(index?: number, timeoutMs?: number): Promise<TestEngineCall>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(pred: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export class TestEngineCall {
  /** Every JSON message received, in order. */
  readonly messages: EngineMessage[] = [];
  /** Text frames that were not JSON objects (should never happen). */
  readonly garbage: string[] = [];
  readonly dtmf: string[] = [];
  readonly marks: string[] = [];
  readonly errors: { code: string; message: string }[] = [];
  binaryFrames = 0;
  closed: { code: number; reason: string } | null = null;
  readonly sampleRate: number;
  private chunks: Int16Array[] = [];
  private sampleCount = 0;

  constructor(
    readonly ws: WebSocket,
    readonly protocol: EngineProtocol,
    private readonly socket: Socket,
    readonly headers: http.IncomingHttpHeaders,
    readonly token: EngineTokenPayload | null,
  ) {
    this.sampleRate = SAMPLE_RATE[protocol];
    ws.on('message', (data, isBinary) => this.receive(toBuffer(data), isBinary));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString('utf8') }));
    ws.on('error', () => undefined);
  }

  get events(): string[] { return this.messages.map((m) => m.event); }
  get start(): EngineMessage | undefined { return this.messages.find((m) => m.event === 'start'); }
  get streamSid(): string | undefined { return this.start?.streamSid; }
  /** All received audio as 16-bit samples at the stream's rate. */
  get samples(): Int16Array {
    const out = new Int16Array(this.sampleCount);
    let at = 0;
    for (const c of this.chunks) { out.set(c, at); at += c.length; }
    return out;
  }
  get receivedMs(): number { return (this.sampleCount * 1000) / this.sampleRate; }

  private addAudio(samples: Int16Array): void {
    this.chunks.push(samples);
    this.sampleCount += samples.length;
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.binaryFrames++;
      const pcm = new Int16Array(data.length >> 1);
      for (let i = 0; i < pcm.length; i++) pcm[i] = data.readInt16LE(i * 2);
      this.addAudio(pcm);
      return;
    }
    let msg: unknown;
    try { msg = JSON.parse(data.toString('utf8')); } catch { msg = null; }
    if (typeof msg !== 'object' || msg === null || typeof (msg as EngineMessage).event !== 'string') {
      this.garbage.push(data.toString('utf8'));
      return;
    }
    const m = msg as EngineMessage;
    this.messages.push(m);
    const body = (m[m.event] ?? {}) as Record<string, string>;
    if (m.event === 'media' && typeof body.payload === 'string') this.addAudio(decodeMuLaw(Buffer.from(body.payload, 'base64')));
    else if (m.event === 'dtmf') this.dtmf.push(String(body.digit));
    else if (m.event === 'mark') this.marks.push(String(body.name));
    else if (m.event === 'error') this.errors.push({ code: String(body.code), message: String(body.message) });
  }

  /** One frame of audio to the gateway, encoded per protocol. */
  sendAudio(pcm: Int16Array): void {
    if (this.protocol === 'l16') {
      const buf = Buffer.allocUnsafe(pcm.length * 2);
      for (let i = 0; i < pcm.length; i++) buf.writeInt16LE(pcm[i]!, i * 2);
      this.ws.send(buf, { binary: true });
    } else {
      const payload = Buffer.from(encodeMuLaw(pcm)).toString('base64');
      this.sendJson({ event: 'media', streamSid: this.streamSid, media: { payload } });
    }
  }

  /** A tone in 20 ms frames, all at once or paced in real time. */
  async sendTone(freqHz: number | number[], ms: number, opts: { paced?: boolean; amplitude?: number } = {}): Promise<void> {
    const gen = new ToneGenerator(Array.isArray(freqHz) ? freqHz : [freqHz], this.sampleRate, opts.amplitude ?? 8000);
    const perFrame = this.sampleRate / 50;
    for (let left = Math.round((ms * this.sampleRate) / 1000); left > 0; left -= perFrame) {
      this.sendAudio(gen.next(Math.min(perFrame, left)));
      if (opts.paced) await sleep(20);
    }
  }

  sendMark(name: string): void { this.sendJson({ event: 'mark', streamSid: this.streamSid, mark: { name } }); }
  sendClear(): void { this.sendJson({ event: 'clear', streamSid: this.streamSid }); }
  sendControl(ev: EngineControl): void { this.sendJson(controlMessage(ev, this.streamSid)); }
  sendJson(msg: Record<string, unknown>): void { this.ws.send(JSON.stringify(msg)); }
  sendRaw(data: string | Buffer): void { this.ws.send(data, { binary: typeof data !== 'string' }); }
  close(code = 1000, reason = ''): void { this.ws.close(code, reason); }
  /** Stop reading from the socket (a slow engine) / read again. */
  pause(): void { this.socket.pause(); }
  resume(): void { this.socket.resume(); }

  /** True if at least `minMs` of consecutive 20 ms blocks of received audio carry `freqHz`. */
  receivedTone(freqHz: number, minMs: number): boolean {
    const samples = this.samples;
    const block = this.sampleRate / 50;
    const need = Math.max(1, Math.ceil(minMs / 20));
    let run = 0;
    for (let at = 0; at + block <= samples.length; at += block) {
      run = hasTone(samples.subarray(at, at + block), freqHz, this.sampleRate) ? run + 1 : 0;
      if (run >= need) return true;
    }
    return false;
  }

  waitFor(pred: (c: TestEngineCall) => boolean, timeoutMs = 2000): Promise<void> {
    return waitFor(() => pred(this), timeoutMs, 'test engine call condition');
  }
}

export async function startTestEngine(opts: TestEngineOptions = {}): Promise<TestEngine> {
  const protocol = opts.protocol ?? 'twilio';
  const calls: TestEngineCall[] = [];
  const rejections: string[] = [];
  const server = http.createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 << 20 });

  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: number): void => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (opts.rejectWith) return refuse(opts.rejectWith);
    let token: EngineTokenPayload | null = null;
    if (opts.secret) {
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      try {
        if (!m) throw new Error('no Bearer token');
        token = verifyEngineToken(m[1]!, opts.secret);
      } catch (err) {
        rejections.push((err as Error).message);
        return refuse(401);
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const call = new TestEngineCall(ws, protocol, socket, req.headers, token);
      calls.push(call);
      opts.onConnection?.(call);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/engine`,
    port,
    calls,
    rejections,
    async waitForCall(index = 0, timeoutMs = 2000) {
      await waitFor(() => calls.length > index, timeoutMs, `engine connection #${index + 1}`);
      return calls[index]!;
    },
    async close() {
      for (const c of calls) c.ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
