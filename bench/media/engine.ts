/**
 * Bench engine (child process): a Twilio Media Streams WebSocket server that echoes every
 * inbound `media` frame straight back (same payload, the stream's streamSid), and a UDP echo
 * for the reference relay. Both record one-way latency from the send time the load generator
 * wrote into the first 8 payload bytes (process.hrtime.bigint(), CLOCK_MONOTONIC, comparable
 * across processes). Controlled by the bench over IPC.
 *
 * Kept cheap, since it shares the machine with the gateway it measures: a `media` message is
 * not JSON-parsed. Its payload is found by offset (the gateway writes `"payload":"<base64>"`
 * last) and spliced into a reply built per stream (`{"event":"media","streamSid":...,"media":
 * {"payload":"`), already framed as a WebSocket text frame, so each echo is one buffer and one
 * socket write. Every other message (connected, start, stop, and any `media` message not shaped
 * that way) goes through JSON.parse as before. The reply is exactly the JSON the previous
 * version built with template strings.
 */
import dgram from 'node:dgram';
import type { AddressInfo, Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
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

/** The first 12 payload bytes (send time + frame counter), decoded from base64 or copied. */
const head12 = Buffer.alloc(12);

/** Latency of a frame whose first 12 payload bytes are in head12 and that arrived at `arrival`; silence (0xFF...) is skipped. */
function record(arrival: bigint): boolean {
  if (head12.readUInt32BE(0) === 0xffffffff && head12.readUInt32BE(4) === 0xffffffff) return false;
  if (!recording) return true;
  const ms = Number(arrival - head12.readBigUInt64BE(0)) / 1e6;
  if (ms >= 0 && ms < 60_000) latency.add(ms);
  return true;
}

const B64 = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (B64[c.charCodeAt(0)] = i));

/** Decode the 16 base64 characters at `at` (12 bytes) into head12; false if they are not base64. */
function decodeHead(src: Buffer, at: number): boolean {
  for (let i = 0, o = 0; i < 16; i += 4, o += 3) {
    const a = B64[src[at + i]!]!, b = B64[src[at + i + 1]!]!, c = B64[src[at + i + 2]!]!, d = B64[src[at + i + 3]!]!;
    if ((a | b | c | d) < 0) return false;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    head12[o] = v >>> 16;
    head12[o + 1] = (v >>> 8) & 0xff;
    head12[o + 2] = v & 0xff;
  }
  return true;
}

/**
 * Echoes wait until the messages that arrived with them have been timed: each send is a syscall,
 * and doing them inline would charge the engine's own sends for earlier messages to the latency
 * of later ones, for the gateway and the relay alike. One setImmediate flushes them all, in
 * arrival order, right after this batch of I/O.
 */
const outTo: (Stream | dgram.RemoteInfo)[] = [];
const outBufs: Buffer[] = [];
let flushing = false;
function echoLater(to: Stream | dgram.RemoteInfo, buf: Buffer): void {
  outTo.push(to);
  outBufs.push(buf);
  if (flushing) return;
  flushing = true;
  setImmediate(flush);
}
function flush(): void {
  flushing = false;
  for (let i = 0; i < outBufs.length; i++) {
    const to = outTo[i]!;
    if (to instanceof Stream) to.send(outBufs[i]!);
    else udp.send(outBufs[i]!, to.port, to.address);
  }
  outTo.length = outBufs.length = 0;
}

const MEDIA_PREFIX = Buffer.from('{"event":"media",', 'latin1');
const PAYLOAD_KEY = Buffer.from('"payload":"', 'latin1');
const TAIL = Buffer.from('"}}', 'latin1');

const text = (d: RawData): string => (Buffer.isBuffer(d) ? d.toString('utf8') : Array.isArray(d) ? Buffer.concat(d).toString('utf8') : Buffer.from(d).toString('utf8'));

interface TwilioIn { event?: string; streamSid?: string; media?: { payload?: string } }

/** One engine WebSocket: the echo's fixed start (with the stream's streamSid, set by `start`) and its raw socket. */
class Stream {
  private head = Buffer.from('{"event":"media","streamSid":"","media":{"payload":"', 'utf8');

  constructor(private readonly ws: WebSocket, private readonly socket: Socket) {}

  started(streamSid: string): void {
    this.head = Buffer.from(`{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"`, 'utf8');
  }

  /** The echo of the payload at src[start, end): a whole unmasked WebSocket text frame (RFC 6455 §5.2). */
  echo(src: Buffer, start: number, end: number): Buffer {
    const len = this.head.length + (end - start) + TAIL.length;
    const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
    const out = Buffer.allocUnsafe(hdr + len);
    out[0] = 0x81; // FIN, text
    if (hdr === 2) out[1] = len;
    else if (hdr === 4) {
      out[1] = 126;
      out.writeUInt16BE(len, 2);
    } else {
      out[1] = 127;
      out.writeBigUInt64BE(BigInt(len), 2);
    }
    let o = hdr + this.head.copy(out, hdr);
    o += src.copy(out, o, start, end);
    TAIL.copy(out, o);
    return out;
  }

  /** One write of a whole frame; through ws when it is not open (it then drops it as ws.send would). */
  send(frame: Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.socket.write(frame);
    status.mediaOut++;
  }
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 20 });
wss.on('connection', (ws, req) => {
  status.connections++;
  status.opened++;
  const stream = new Stream(ws, req.socket);
  ws.on('message', (data, isBinary) => {
    const arrival = process.hrtime.bigint();
    if (isBinary) return;
    if (Buffer.isBuffer(data) && data.length > 64 && data.compare(MEDIA_PREFIX, 0, MEDIA_PREFIX.length, 0, MEDIA_PREFIX.length) === 0) {
      const k = data.lastIndexOf(PAYLOAD_KEY);
      const start = k + PAYLOAD_KEY.length;
      const end = k < 0 ? -1 : data.indexOf(0x22, start);
      if (end >= start + 16 && end + TAIL.length === data.length && data.compare(TAIL, 0, TAIL.length, end) === 0) {
        status.mediaIn++;
        if (decodeHead(data, start) && record(arrival) && recording) wsFrames++;
        echoLater(stream, stream.echo(data, start, end));
        return;
      }
    }
    let m: TwilioIn;
    try {
      m = JSON.parse(text(data)) as TwilioIn;
    } catch {
      return;
    }
    if (m.event === 'start') stream.started(m.streamSid ?? '');
    else if (m.event === 'media' && typeof m.media?.payload === 'string') {
      const payload = Buffer.from(m.media.payload, 'latin1');
      status.mediaIn++;
      if (payload.length >= 16 && decodeHead(payload, 0) && record(arrival) && recording) wsFrames++;
      echoLater(stream, stream.echo(payload, 0, payload.length));
    }
  });
  ws.on('close', () => status.connections--);
  ws.on('error', () => undefined);
});

// One socket takes every relay call's packets (20 000 a second at 400 calls): room for 4 MB of them, so a
// short stall of this process does not overflow the default ~200 KB buffer and count as relay loss.
const udp = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
udp.on('message', (msg, from) => {
  const arrival = process.hrtime.bigint();
  status.udpIn++;
  // An RTP packet as the generator sent it: the payload starts after the 12-byte header.
  if (msg.length >= 24) {
    msg.copy(head12, 0, 12, 24);
    if (record(arrival) && recording) udpFrames++;
  }
  echoLater(from, msg);
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
