/**
 * The load generator (child process, kept lean): N calls, each with its own RTP socket. Every
 * 20 ms on a drift-free schedule (calls spread over 20 phase groups 1 ms apart) it sends each
 * call one 172-byte PCMU packet whose payload starts with the send time (8 bytes,
 * process.hrtime.bigint()) and a frame counter (4 bytes), rest 0xFF. Echoed frames are found by
 * their counter; every RTP packet received is timed for the pacing jitter. Driven over IPC.
 */
import dgram from 'node:dgram';
import { setPriority } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Histogram, loopDelay } from './hist.js';
import { serve, type GeneratorWindow, type HangupResult, type PlaceResult } from './ipc.js';
import { SipClient, type Dialog } from './sip.js';

/**
 * Diagnostics (not the default run): BENCH_MEDIA_GENERATOR_NICE=-5 raises this process's priority
 * (needs CAP_SYS_NICE), for gateway and relay steps alike, to see how much of the measured jitter
 * is the generator's own wait for a core: it timestamps each arrival when it gets to run.
 */
const NICE = Number(process.env['BENCH_MEDIA_GENERATOR_NICE'] ?? 0);
if (NICE) setPriority(NICE);

const PERIOD = 20;
const GROUPS = 20;
const MAX_FRAMES = 8192; // 160 s of frames per call, far more than a step lasts
const IN_FLIGHT_FRAMES = 10; // the last 200 ms before stop are not counted as lost
const GRACE_MS = 500;
const LATE_MS = 60;
const PLACE_CONCURRENCY = 32;
/** Calls start streaming spread over this many slots (1 s), not all in the same 20 ms. */
const RAMP_SLOTS = 50;

interface Call {
  sock: dgram.Socket;
  remotePort: number;
  dialog?: Dialog;
  seq: number;
  ts: number;
  ssrc: number;
  counter: number;
  /** The group slot from which this call streams (the ramp). */
  startSlot: number;
  got: Uint8Array;
  lastAt: number;
  c0: number;
  c1: number;
}

let calls: Call[] = [];
let sip: SipClient | undefined;
let timer: NodeJS.Timeout | undefined;
let groups: { calls: Call[]; next: number; slot: number }[] = [];
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
let measuring = false;
let windowOpen = false;
let windowStart = 0;
let sentTotal = 0;
let sentAtStart = 0;
let skipped = 0;
let sendErrors = 0;
let received = 0;
let late = 0;
let endedByGateway = 0;
const gatewayByes = new Map<string, string>();
const rtt = new Histogram(0.01, 1000, LATE_MS);
const jitter = new Histogram(0.01, 1000, 2); // `over`: intervals more than 2 ms off
const sendLate = new Histogram(0.01, 1000);

const TEMPLATE = Buffer.alloc(172, 0xff);
TEMPLATE[0] = 0x80;
TEMPLATE[1] = 0; // PCMU

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function onPacket(c: Call, m: Buffer): void {
  const now = performance.now();
  // RTCP (PT 200..204 in the second byte) may land here from a neighbour port: not audio.
  if (m.length < 12 || (m[1]! & 0x7f) !== 0) return;
  if (measuring) {
    if (c.lastAt > 0) {
      jitter.add(Math.abs(now - c.lastAt - PERIOD));
      // Late: the caller went more than a whole frame without a packet (a missed 20 ms slot).
      if (now - c.lastAt > 2 * PERIOD) late++;
    }
    received++;
  }
  c.lastAt = now;
  if (m.length < 24 || (m.readUInt32BE(12) === 0xffffffff && m.readUInt32BE(16) === 0xffffffff)) return; // pacer silence
  const n = m.readUInt32BE(20);
  if (n >= c.counter || n >= MAX_FRAMES || c.got[n]) return;
  c.got[n] = 1;
  if (windowOpen && n >= c.c0 && n < c.c1) {
    const ms = Number(process.hrtime.bigint() - m.readBigUInt64BE(12)) / 1e6;
    rtt.add(ms);
  }
}

async function openCall(remotePort: number): Promise<Call> {
  const c: Call = {
    sock: dgram.createSocket('udp4'), remotePort, seq: Math.floor(Math.random() * 65536), ts: Math.floor(Math.random() * 2 ** 31),
    ssrc: Math.floor(Math.random() * 2 ** 32) >>> 0, counter: 0, startSlot: 0, got: new Uint8Array(MAX_FRAMES), lastAt: 0, c0: 0, c1: Infinity,
  };
  await new Promise<void>((r) => c.sock.bind(0, '127.0.0.1', () => r()));
  c.sock.on('message', (m) => onPacket(c, m));
  c.sock.on('error', () => sendErrors++);
  return c;
}

function sendFrame(c: Call): void {
  if (c.counter >= MAX_FRAMES) return;
  const b = Buffer.allocUnsafe(172);
  TEMPLATE.copy(b);
  b.writeUInt16BE(c.seq, 2);
  b.writeUInt32BE(c.ts, 4);
  b.writeUInt32BE(c.ssrc, 8);
  b.writeBigUInt64BE(process.hrtime.bigint(), 12);
  b.writeUInt32BE(c.counter, 20);
  c.sock.send(b, c.remotePort, '127.0.0.1');
  c.seq = (c.seq + 1) & 0xffff;
  c.ts = (c.ts + 160) >>> 0;
  c.counter++;
  sentTotal++;
}

function tick(): void {
  timer = undefined;
  let now = performance.now();
  for (const g of groups) {
    if (g.next > now + 0.25) continue;
    const lag = now - g.next;
    if (lag > 5 * PERIOD) {
      // The loop was blocked: skip the missed slots instead of bursting (counted as not sent).
      const missed = Math.floor(lag / PERIOD);
      skipped += missed * g.calls.length;
      g.next += missed * PERIOD;
      g.slot += missed;
    }
    while (g.next <= now + 0.25) {
      if (measuring) sendLate.add(now - g.next);
      for (const c of g.calls) if (c.startSlot <= g.slot) sendFrame(c);
      g.next += PERIOD;
      g.slot++;
      now = performance.now();
    }
  }
  let earliest = Infinity;
  for (const g of groups) earliest = Math.min(earliest, g.next);
  timer = setTimeout(tick, Math.max(0, earliest - performance.now()));
}

async function place(sipPort: number, numbers: string[], prefix: string): Promise<PlaceResult> {
  const t0 = performance.now();
  sip = await SipClient.open(sipPort);
  sip.onGatewayBye = (callId, reason) => {
    endedByGateway++;
    gatewayByes.set(callId, reason);
  };
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < numbers.length) {
      const i = next++;
      const c = await openCall(0);
      const d = await sip!.call(`${prefix}-${i}`, numbers[i]!, c.sock.address().port);
      if (typeof d === 'string') {
        failures.push(`${numbers[i]}: ${d}`);
        c.sock.close();
        continue;
      }
      c.dialog = d;
      c.remotePort = d.remoteRtpPort;
      calls.push(c);
    }
  };
  await Promise.all(Array.from({ length: PLACE_CONCURRENCY }, worker));
  return { placed: calls.length, failed: failures.length, failures: failures.slice(0, 10), ms: performance.now() - t0 };
}

async function stopWindow(): Promise<GeneratorWindow> {
  const seconds = (performance.now() - windowStart) / 1000;
  measuring = false;
  if (timer) clearTimeout(timer);
  timer = undefined;
  const sent = sentTotal - sentAtStart;
  for (const c of calls) c.c1 = c.counter;
  await sleep(GRACE_MS);
  windowOpen = false;
  let counted = 0;
  let echoed = 0;
  let callsWithLoss = 0;
  for (const c of calls) {
    let lostHere = 0;
    for (let i = c.c0; i < c.c1 - IN_FLIGHT_FRAMES; i++) {
      counted++;
      if (c.got[i]) echoed++;
      else lostHere++;
    }
    if (lostHere) callsWithLoss++;
  }
  return {
    calls: calls.length, seconds, expected: Math.round((calls.length * seconds * 1000) / PERIOD), sent, counted, echoed,
    lost: counted - echoed, callsWithLoss, late, rtt: rtt.summary(), jitter: jitter.summary(), received,
    sendLate: sendLate.summary(), skippedSlots: skipped, sendErrors, endedByGateway, loopDelay: loopDelay(loop),
  };
}

serve({
  hello: () => ({ pid: process.pid }),
  place: (a) => place(Number(a['sipPort']), a['numbers'] as string[], String(a['prefix'])),
  direct: async (a) => {
    for (const p of a['ports'] as number[]) calls.push(await openCall(p));
    return { placed: calls.length, failed: 0, failures: [], ms: 0 } satisfies PlaceResult;
  },
  'stream-start': () => {
    const origin = performance.now() + 5;
    calls.forEach((c, i) => (c.startSlot = Math.floor((i * RAMP_SLOTS) / calls.length)));
    groups = Array.from({ length: GROUPS }, (_, g) => ({ calls: calls.filter((_c, i) => i % GROUPS === g), next: origin + g, slot: 0 }));
    groups = groups.filter((g) => g.calls.length > 0);
    tick();
    return null;
  },
  'window-start': () => {
    for (const h of [rtt, jitter, sendLate]) h.reset();
    loop.reset();
    received = late = skipped = sendErrors = endedByGateway = 0;
    for (const c of calls) {
      c.c0 = c.counter;
      c.c1 = Infinity;
    }
    sentAtStart = sentTotal;
    windowStart = performance.now();
    measuring = windowOpen = true;
    return null;
  },
  'window-stop': () => stopWindow(),
  hangup: async (): Promise<HangupResult> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    let byeOk = 0;
    let byeFailed = 0;
    const withDialog = calls.filter((c) => c.dialog && !gatewayByes.has(c.dialog.callId));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < withDialog.length) {
        const c = withDialog[next++]!;
        if (await sip!.bye(c.dialog!)) byeOk++;
        else byeFailed++;
      }
    };
    await Promise.all(Array.from({ length: PLACE_CONCURRENCY }, worker));
    for (const c of calls) c.sock.close();
    const reasons: Record<string, number> = {};
    for (const r of gatewayByes.values()) reasons[r] = (reasons[r] ?? 0) + 1;
    const result: HangupResult = { byeOk, byeFailed, endedByGateway: gatewayByes.size, gatewayByeReasons: reasons };
    calls = [];
    groups = [];
    gatewayByes.clear();
    sip?.close();
    sip = undefined;
    return result;
  },
});
