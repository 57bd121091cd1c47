// WebRTC bridge benchmark: N concurrent calls, each a plain-RTP caller (PCMU, 20 ms) bridged by
// the media plane to a WebRTC far end (werift, in bench/webrtc/far.ts, its own process) that
// echoes the audio back, next to the same N with the builtin echo engine (the plain stream
// bridge's reference), in the same run.
//
//   npm run bench:webrtc [-- N ...]          steps (default 10 25 50 100)
//   BENCH_WEBRTC_STEPS=10,25                 same, by environment
//   BENCH_WEBRTC_MODES=echo,webrtc-opus      modes (default echo, webrtc-pcmu, webrtc-opus)
//   BENCH_WEBRTC_WINDOW_MS / _WARMUP_MS / _DRAIN_MS   (default 10000 / 2000 / 1500)
//
// Per step and mode: open N sessions (WebRTC: wait until every far end is connected), send
// WARMUP + WINDOW of 20 ms PCMU from every caller, stop, wait DRAIN for what is in flight, close.
// CPU is measured over WINDOW only; packets are accounted over the whole send period:
//   - every caller frame carries its index in the payload (bytes 0-4, values that survive
//     mu-law passthrough), so the caller knows which frames came back, how often and how late:
//     lost = sent - distinct frames back by the end of the drain - frames the outbound queue
//     trimmed as pure delay (counted by the session, shown apart); late = back after LATE_MS;
//     Opus re-encodes the payload, so there the end-to-end count is frames with audio (the
//     pacer's fill is exact 0xff silence) and late is not measured;
//   - per hop: caller -> gateway (sent vs session packetsIn, jitter-buffer lost/late), gateway ->
//     far end (session engineFramesOut vs the far end's RTP sequence numbers: span - received),
//     far end -> gateway (echoed vs session engineFramesIn, backpressure drops), gateway -> caller
//     (session packetsOut vs RTP received, and the gap in the gateway's sequence numbers).
// The run stops after a step where any WebRTC mode lost a frame or the media worker thread was
// saturated (> 90 % of a core), or the machine was (> 90 % of all cores).
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { writeResults } from '../results.js';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LATENESS_BUCKET_MS } from '../../media/pacer.js';
import { WorkerMediaPlane } from '../../media/worker-plane.js';
import type { EngineTarget, MediaSession } from '../../media/types.js';
import type { FarPeerStats } from './far.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const env = (k: string, d: number): number => (process.env[k] ? Number(process.env[k]) : d);
const WARMUP_MS = env('BENCH_WEBRTC_WARMUP_MS', 2000);
const WINDOW_MS = env('BENCH_WEBRTC_WINDOW_MS', 10_000);
const DRAIN_MS = env('BENCH_WEBRTC_DRAIN_MS', 1500);
/** A frame back later than this counts as late (a far end's jitter buffer would have dropped it). */
const LATE_MS = 200;
const MODES = ['echo', 'webrtc-pcmu', 'webrtc-opus'] as const;
type Mode = (typeof MODES)[number];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

// ------------------------------------------------------------------ far-end process

const far = fork(join(HERE, 'far.js'));
const pending = new Map<string, (m: Record<string, unknown>) => void>();
far.on('message', (m: Record<string, unknown>) => {
  const key = String(m['id'] ?? m['op']);
  const cb = pending.get(key);
  pending.delete(key);
  cb?.(m);
});
const ask = (key: string, msg: object | null): Promise<Record<string, unknown>> => new Promise((r) => {
  pending.set(key, r);
  if (msg) far.send(msg);
});

// ------------------------------------------------------------------ CPU from /proc

/** utime + stime in clock ticks (USER_HZ = 100 on Linux) of every thread of this process. */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const f = readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(t, Number(f[11]) + Number(f[12]));
    } catch {
      // thread ended
    }
  }
  return out;
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

// ------------------------------------------------------------------ frame ids in the payload

/** Bytes that mu-law passthrough (and a decode/encode round trip) keeps: never 0x7f or 0xff. */
const MAGIC = 0x56;
function writeId(buf: Buffer, at: number, id: number): void {
  buf[at] = MAGIC;
  for (let k = 0; k < 4; k++) buf[at + 1 + k] = 0x20 + ((id >> (6 * k)) & 0x3f);
}
function readId(buf: Buffer, at: number): number {
  if (buf[at] !== MAGIC) return -1;
  let id = 0;
  for (let k = 0; k < 4; k++) {
    const v = buf[at + 1 + k]! - 0x20;
    if (v < 0 || v > 0x3f) return -1;
    id |= v << (6 * k);
  }
  return id;
}

interface Caller {
  s: MediaSession;
  sock: dgram.Socket;
  farId: string;
  sent: number;
  /** performance.now() at each frame's send, by frame index. */
  sentAt: Float64Array;
  back: Uint8Array;
  rtt: number[];
  distinctBack: number;
  dupBack: number;
  lateBack: number;
  audioFrames: number;
  rtpIn: number;
  firstSeq: number;
  maxSeq: number;
}

function onPacket(c: Caller, m: Buffer): void {
  if (m.length < 12 + 160) return;
  c.rtpIn++;
  const seq16 = m.readUInt16BE(2);
  if (c.maxSeq < 0) c.firstSeq = c.maxSeq = seq16;
  else {
    let ext = c.maxSeq - (c.maxSeq & 0xffff) + seq16;
    if (ext - c.maxSeq > 0x8000) ext -= 0x10000;
    else if (c.maxSeq - ext > 0x8000) ext += 0x10000;
    if (ext > c.maxSeq) c.maxSeq = ext;
  }
  let audio = false;
  for (let j = 12; j < 172; j++) {
    if (m[j] !== 0xff) {
      audio = true;
      break;
    }
  }
  if (audio) c.audioFrames++;
  const id = readId(m, 12);
  if (id < 0 || id >= c.sent) return;
  if (c.back[id]) {
    c.dupBack++;
    return;
  }
  c.back[id] = 1;
  c.distinctBack++;
  const rtt = performance.now() - c.sentAt[id]!;
  c.rtt.push(rtt);
  if (rtt > LATE_MS) c.lateBack++;
}

/** p99 of the workers' pacer lateness histograms (LATENESS_BUCKET_MS buckets), bucket middle. */
function latenessP99(hists: Uint32Array[]): number | null {
  const total = hists.reduce((a, h) => a + h.reduce((x, y) => x + y, 0), 0);
  if (!total) return null;
  const len = Math.max(...hists.map((h) => h.length));
  let seen = 0;
  for (let i = 0; i < len; i++) {
    for (const h of hists) seen += h[i] ?? 0;
    if (seen >= total * 0.99) return (i + 0.5) * LATENESS_BUCKET_MS;
  }
  return null;
}

const pct = (sorted: number[], p: number): number | null => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : null);

async function run(plane: WorkerMediaPlane, mode: Mode, n: number): Promise<Record<string, unknown>> {
  const codec = mode === 'webrtc-opus' ? 'opus' : 'PCMU';
  const engine: EngineTarget = mode === 'echo' ? { kind: 'builtin', name: 'echo' } : { kind: 'webrtc', name: 'bench', codecs: [codec], connectTimeoutMs: 20_000 };
  const maxFrames = Math.ceil((WARMUP_MS + WINDOW_MS) / 20) + 200;
  const calls: Caller[] = [];
  const connected: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${mode}-${n}-${i}`;
    const s = await plane.open({ callId: id, engine, meta: { callSid: id, streamSid: id, accountSid: 'bench', sipCallId: id, agentId: 'a', number: 'n', caller: 'c', dnis: 'd', profile: 'p', vendor: {}, custom: {} }, failure: { policy: 'hangup', reconnectWindowMs: 0 } });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const c: Caller = { s, sock, farId: id, sent: 0, sentAt: new Float64Array(maxFrames), back: new Uint8Array(maxFrames), rtt: [], distinctBack: 0, dupBack: 0, lateBack: 0, audioFrames: 0, rtpIn: 0, firstSeq: -1, maxSeq: -1 };
    sock.on('message', (m) => onPacket(c, m));
    s.onEnd = (reason, detail) => console.error(`session ${id} ended: ${reason} ${detail ?? ''}`);
    s.update({ codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, remote: { address: '127.0.0.1', port: sock.address().port }, direction: 'sendrecv', ptime: 20 });
    if (mode !== 'echo') {
      connected.push(ask(`connected:${id}`, null));
      s.onSignal = (sig) => {
        if (sig.type === 'offer') void ask(id, { op: 'offer', id, sdp: sig.sdp, codec }).then((a) => s.signal({ type: 'answer', sdp: String(a['sdp']) }));
      };
    }
    s.start();
    calls.push(c);
  }
  // Every far end connected, and a moment for the gateway's side to see it too (frames before its
  // link is up are not sent anywhere).
  await Promise.all(connected);
  await sleep(500);

  // One drift-free timer paces every caller: 160 bytes per 20 ms, frame index in the payload.
  let tick = 0;
  let sending = true;
  const t0 = performance.now();
  const pkt = Buffer.alloc(172);
  pkt[0] = 0x80;
  let timer: NodeJS.Timeout;
  const send = (): void => {
    if (!sending) return;
    pkt.writeUInt16BE(tick & 0xffff, 2);
    pkt.writeUInt32BE((tick * 160) >>> 0, 4);
    for (let j = 17; j < 172; j++) {
      const v = (j * 7 + tick) & 0xff;
      pkt[j] = v === 0xff || v === 0x7f ? v - 1 : v;
    }
    const now = performance.now();
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i]!;
      pkt.writeUInt32BE(i + 1, 8);
      writeId(pkt, 12, c.sent);
      c.sentAt[c.sent] = now;
      c.sent++;
      // A copy: a send libuv has to queue (EAGAIN) keeps a reference to the bytes, and pkt changes
      // for the next caller right away.
      c.sock.send(Buffer.from(pkt), c.s.localPort, '127.0.0.1');
    }
    tick++;
    timer = setTimeout(send, Math.max(0, t0 + tick * 20 - performance.now()));
  };
  timer = setTimeout(send, 0);
  await sleep(WARMUP_MS);
  void plane.stats(); // reset the pacer lateness samples
  const cpu0 = process.cpuUsage();
  const th0 = threadTicks();
  const m0 = machineTicks();
  const load0 = loadavg()[0]!;
  const far0 = (await ask('stats', { op: 'stats' }))['cpu'] as NodeJS.CpuUsage;
  const w0 = performance.now();
  await sleep(WINDOW_MS);
  const windowMs = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  const th1 = threadTicks();
  const m1 = machineTicks();
  const load1 = loadavg()[0]!;
  const pacerP99 = latenessP99((await plane.stats()).map((w) => w.lateness));
  const far1 = (await ask('stats', { op: 'stats' }))['cpu'] as NodeJS.CpuUsage;
  sending = false;
  clearTimeout(timer!);
  await sleep(DRAIN_MS);

  // Close, and wait for every session's final counters from its worker.
  for (const c of calls) c.s.close();
  const deadline = Date.now() + 5000;
  while (plane.activeSessions > 0 && Date.now() < deadline) await sleep(20);
  await sleep(100);
  for (const c of calls) c.sock.close();
  const farPeers = (mode === 'echo' ? {} : (await ask('stats', { op: 'stats' }))['peers']) as Record<string, FarPeerStats>;
  if (mode !== 'echo') await ask('dropped', { op: 'drop', ids: calls.map((c) => c.farId) });

  // CPU: this process (callers on the main thread + the media worker thread), per thread.
  const pid = String(process.pid);
  let mainTicks = 0;
  let busiestOther = 0;
  for (const [t, v] of th1) {
    const d = v - (th0.get(t) ?? 0);
    if (t === pid) mainTicks = d;
    else busiestOther = Math.max(busiestOther, d);
  }
  const ofCore = (ticks: number): number => round((ticks * 10) / windowMs * 100, 1); // USER_HZ 100: 1 tick = 10 ms
  const ownPct = round(((cpu.user + cpu.system) / 1000 / windowMs) * 100, 1);
  const farPct = mode === 'echo' ? 0 : round(((far1.user + far1.system - far0.user - far0.system) / 1000 / windowMs) * 100, 1);
  const machinePct = round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 * cpus().length, 0);

  // Packets.
  const sum = (f: (c: Caller) => number): number => calls.reduce((a, c) => a + f(c), 0);
  const sent = sum((c) => c.sent);
  const st = (f: (c: Caller) => number): number => sum(f);
  const back = mode === 'webrtc-opus' ? Math.min(sent, sum((c) => c.audioFrames)) : sum((c) => c.distinctBack);
  const rtts = calls.flatMap((c) => c.rtt).sort((a, b) => a - b);
  const farSum = (k: keyof FarPeerStats): number => calls.reduce((a, c) => a + (farPeers[c.farId]?.[k] ?? 0), 0);
  const hops = {
    callerToGw: { sent, received: st((c) => c.s.stats.packetsIn), jitterLost: st((c) => c.s.stats.lost), jitterLate: st((c) => c.s.stats.late) },
    gwToEngine: mode === 'echo'
      ? { framesOut: st((c) => c.s.stats.engineFramesOut) }
      : { framesOut: st((c) => c.s.stats.engineFramesOut), farReceived: farSum('received'), farSeqLost: farSum('span') - farSum('received'), farDuplicates: farSum('duplicates') },
    engineToGw: mode === 'echo'
      ? { framesIn: st((c) => c.s.stats.engineFramesIn), backpressureDrops: st((c) => c.s.stats.backpressureDrops) }
      : { farEchoed: farSum('echoed'), framesIn: st((c) => c.s.stats.engineFramesIn), backpressureDrops: st((c) => c.s.stats.backpressureDrops) },
    // Frames the session's outbound queue dropped as pure delay (real-time far ends), where counted.
    trimmed: st((c) => (c.s.stats as unknown as Record<string, number | undefined>)['realtimeTrimmed'] ?? 0),
    gwToCaller: { packetsOut: st((c) => c.s.stats.packetsOut), received: st((c) => c.rtpIn), seqLost: st((c) => (c.maxSeq < 0 ? 0 : c.maxSeq - c.firstSeq + 1 - c.rtpIn)) },
  };
  return {
    mode,
    calls: n,
    cpuPct: ownPct,
    cpuPerCallPct: round(ownPct / n, 3),
    workerThreadPct: ofCore(busiestOther),
    mainThreadPct: ofCore(mainTicks),
    farCpuPct: farPct,
    farCpuPerCallPct: round(farPct / n, 3),
    machinePct,
    load1: round((load0 + load1) / 2, 2),
    pacerLatenessP99Ms: pacerP99 === null ? null : round(pacerP99, 2),
    sent,
    back,
    // Frames the outbound queue dropped on purpose (standing delay, media/realtime-trim.ts) are
    // not back either; they are counted apart from loss.
    trimmed: hops.trimmed,
    lost: Math.max(0, sent - back - hops.trimmed),
    late: mode === 'webrtc-opus' ? null : sum((c) => c.lateBack),
    duplicates: mode === 'webrtc-opus' ? null : sum((c) => c.dupBack),
    rttP50Ms: mode === 'webrtc-opus' ? null : pct(rtts, 50) === null ? null : round(pct(rtts, 50)!, 1),
    rttP99Ms: mode === 'webrtc-opus' ? null : pct(rtts, 99) === null ? null : round(pct(rtts, 99)!, 1),
    rttMaxMs: mode === 'webrtc-opus' ? null : rtts.length ? round(rtts[rtts.length - 1]!, 1) : null,
    hops,
  };
}

function steps(): number[] {
  const fromArgs = process.argv.slice(2).map(Number).filter((x) => x > 0);
  if (fromArgs.length) return fromArgs;
  const fromEnv = (process.env['BENCH_WEBRTC_STEPS'] ?? '').split(',').map(Number).filter((x) => x > 0);
  return fromEnv.length ? fromEnv : [10, 25, 50, 100];
}

function modes(): Mode[] {
  const want = (process.env['BENCH_WEBRTC_MODES'] ?? '').split(',').filter((m): m is Mode => (MODES as readonly string[]).includes(m));
  return want.length ? want : [...MODES];
}

/** The BENCHMARKS.md table: ours beside the builtin echo of the same step, and the ratio. */
function markdown(rows: Record<string, unknown>[]): string {
  const out = [
    '| calls | mode | CPU/call (x echo) | media worker thread | far ends CPU/call | sent / back / lost / trimmed / late | RTT p50 / p99 | hop losses (caller->gw, gw->far, far->gw, gw->caller) | load |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const h = r['hops'] as Record<string, Record<string, number>>;
    const farLost = r['mode'] === 'echo' ? '-' : String(h['gwToEngine']!['farSeqLost']! + (h['gwToEngine']!['framesOut']! - h['gwToEngine']!['farReceived']!));
    const backLost = r['mode'] === 'echo' ? '-' : String(h['engineToGw']!['farEchoed']! - h['engineToGw']!['framesIn']! + h['engineToGw']!['backpressureDrops']!);
    const hopLoss = [h['callerToGw']!['sent']! - h['callerToGw']!['received']!, farLost, backLost, h['gwToCaller']!['seqLost']!].join(' / ');
    const ratio = r['cpuRatioToEcho'] === undefined ? '(reference)' : `(${r['cpuRatioToEcho']}x)`;
    const rtt = r['rttP50Ms'] === null ? 'n/m' : `${r['rttP50Ms']} / ${r['rttP99Ms']} ms`;
    out.push(`| ${r['calls']} | ${r['mode']} | ${r['cpuPerCallPct']} % ${ratio} | ${r['workerThreadPct']} % | ${r['mode'] === 'echo' ? '-' : `${r['farCpuPerCallPct']} %`} | ${r['sent']} / ${r['back']} / ${r['lost']} / ${r['trimmed']} / ${r['late'] ?? 'n/m'} | ${rtt} | ${hopLoss} | ${r['load1']} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  await ask('ready', null);
  const plane = new WorkerMediaPlane({ host: '127.0.0.1', portMin: 47000, portMax: 47999, workers: 1, settings: { host: '127.0.0.1', rtpTimeoutMs: 0, jitterMinMs: 40, jitterMaxMs: 200, engineBufferFrames: 500 } });
  const started = new Date();
  const rows: Record<string, unknown>[] = [];
  let stop = '';
  for (const n of steps()) {
    const step: Record<string, unknown>[] = [];
    for (const mode of modes()) {
      const r = await run(plane, mode, n);
      console.log(JSON.stringify(r));
      step.push(r);
      rows.push(r);
    }
    const echo = step.find((r) => r['mode'] === 'echo');
    for (const r of step) if (echo && r !== echo) r['cpuRatioToEcho'] = round(Number(r['cpuPerCallPct']) / Number(echo['cpuPerCallPct']), 2);
    const lossy = step.filter((r) => r['mode'] !== 'echo' && Number(r['lost']) > 0).map((r) => `${r['mode']} lost ${r['lost']}`);
    const hot = step.filter((r) => Number(r['workerThreadPct']) > 90 || Number(r['machinePct']) > 90 * cpus().length);
    if (lossy.length || hot.length) {
      stop = `stopped after ${n} calls: ${[...lossy, ...hot.map((r) => `${r['mode']} saturated (worker ${r['workerThreadPct']} %, machine ${r['machinePct']} % of ${cpus().length * 100})`)].join('; ')}`;
      break;
    }
  }
  console.table(rows.map(({ hops: _h, ...r }) => r));
  if (stop) console.log(stop);
  console.log(markdown(rows));
  const file = await writeResults('webrtc', started, { started, node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, windowMs: WINDOW_MS, warmupMs: WARMUP_MS, drainMs: DRAIN_MS, lateMs: LATE_MS, stop, rows });
  console.log(`results: ${file}`);
  await Promise.race([plane.close(), sleep(5000)]);
  far.send({ op: 'close' });
  await sleep(500);
  process.exit(0);
}

void main().catch((e) => {
  console.error(e);
  far.kill();
  process.exit(2);
});
