/**
 * Bench engine (child process): a Twilio Media Streams WebSocket server that echoes every
 * inbound `media` frame straight back (same payload, the stream's streamSid), and a UDP echo
 * for the reference relay. Both record one-way latency from the send time the load generator
 * wrote into the first 8 payload bytes (process.hrtime.bigint(), CLOCK_MONOTONIC, comparable
 * across processes). Controlled by the bench over IPC.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer, type RawData } from 'ws';
import { Histogram, loopDelay } from './hist.js';
import { serve, type EngineHello, type EngineStatus, type EngineWindow } from './ipc.js';

const latency = new Histogram(0.01, 1000, 60);
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
let recording = false;
let windowStart = 0;
let wsFrames = 0;
let udpFrames = 0;
const status: EngineStatus = { connections: 0, opened: 0, mediaIn: 0, mediaOut: 0, udpIn: 0 };

/**
 * Record the latency of a frame whose payload starts at `head` and that arrived at `arrival`
 * (process.hrtime.bigint(), taken first thing in the handler); silence (0xFF...) is skipped.
 */
function record(head: Buffer, at: number, arrival: bigint): boolean {
  if (head.length < at + 12 || (head.readUInt32BE(at) === 0xffffffff && head.readUInt32BE(at + 4) === 0xffffffff)) return false;
  if (!recording) return true;
  const ms = Number(arrival - head.readBigUInt64BE(at)) / 1e6;
  if (ms >= 0 && ms < 60_000) latency.add(ms);
  return true;
}

/**
 * Echoes wait until the messages that arrived with them have been timed: each send is a syscall,
 * and doing them inline would charge the engine's own sends for earlier messages to the latency
 * of later ones, for the gateway and the relay alike. One setImmediate flushes them all, in
 * arrival order, right after this batch of I/O.
 */
const echoes: (() => void)[] = [];
let flushing = false;
function echoLater(send: () => void): void {
  echoes.push(send);
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    for (const f of echoes.splice(0)) f();
  });
}

const text = (d: RawData): string => (Buffer.isBuffer(d) ? d.toString('utf8') : Array.isArray(d) ? Buffer.concat(d).toString('utf8') : Buffer.from(d).toString('utf8'));

interface TwilioIn { event?: string; streamSid?: string; media?: { payload?: string } }

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 20 });
wss.on('connection', (ws) => {
  status.connections++;
  status.opened++;
  /** The echo's fixed start, with this stream's streamSid (set by `start`). */
  let head = '{"event":"media","streamSid":"","media":{"payload":"';
  ws.on('message', (data, isBinary) => {
    const arrival = process.hrtime.bigint();
    if (isBinary) return;
    let m: TwilioIn;
    try {
      m = JSON.parse(text(data)) as TwilioIn;
    } catch {
      return;
    }
    if (m.event === 'start') head = `{"event":"media","streamSid":${JSON.stringify(m.streamSid ?? '')},"media":{"payload":"`;
    else if (m.event === 'media' && typeof m.media?.payload === 'string') {
      const payload = m.media.payload;
      status.mediaIn++;
      // 16 base64 characters are the first 12 bytes: send time + frame counter.
      if (record(Buffer.from(payload.slice(0, 16), 'base64'), 0, arrival) && recording) wsFrames++;
      const echo = `${head}${payload}"}}`;
      echoLater(() => {
        ws.send(echo);
        status.mediaOut++;
      });
    }
  });
  ws.on('close', () => status.connections--);
  ws.on('error', () => undefined);
});

// One socket takes every relay call's packets (20 000 a second at 400 calls). With the default
// ~200 KB receive buffer a stall of this process of about 10 ms overflowed it, and the relay
// reference showed loss that was the bench's (809 frames in one 400-call run): 4 MB of room.
const udp = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
udp.on('message', (msg, from) => {
  const arrival = process.hrtime.bigint();
  status.udpIn++;
  // An RTP packet as the generator sent it: the payload starts after the 12-byte header.
  if (record(msg, 12, arrival) && recording) udpFrames++;
  echoLater(() => udp.send(msg, from.port, from.address));
});
udp.on('error', () => undefined);

const ready = Promise.all([
  new Promise<void>((r) => wss.once('listening', () => r())),
  new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r())),
]);

serve({
  async hello(): Promise<EngineHello> {
    await ready;
    return { wsPort: (wss.address() as AddressInfo).port, udpPort: udp.address().port };
  },
  status: (): EngineStatus => ({ ...status }),
  'window-start': (): null => {
    latency.reset();
    loop.reset();
    wsFrames = udpFrames = 0;
    windowStart = performance.now();
    recording = true;
    return null;
  },
  'window-stop': (): EngineWindow => {
    recording = false;
    return { seconds: (performance.now() - windowStart) / 1000, frames: latency.count, latency: latency.summary(), wsFrames, udpFrames, loopDelay: loopDelay(loop) };
  },
});
