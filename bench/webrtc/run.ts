// WebRTC bridge benchmark: N concurrent calls, each a plain-RTP caller (PCMU, 20 ms) bridged by
// the media plane to a WebRTC far end (werift, in bench/webrtc/far.ts, its own process) that
// echoes the audio back, next to the same N with the builtin echo engine, in the same run.
//
//   npm run -s build && node dist/bench/webrtc/run.js [N ...]     (default: 10 25)
//
// Measured over a 10 s window after a 2 s warm-up: CPU of this process (media worker thread +
// callers + main thread; the callers cost the same in both modes, so the difference is the WebRTC
// bridge) and of the far-end process, per call; and loss = 1 - packets back at the callers /
// packets the callers sent (the pacer's silence fill does not count as arrived).
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerMediaPlane } from '../../media/worker-plane.js';
import type { EngineTarget, MediaSession } from '../../media/types.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const WARMUP_MS = 2000;
const WINDOW_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
type Mode = 'echo' | 'webrtc-pcmu' | 'webrtc-opus';

const far = fork(join(HERE, 'far.js'));
const pending = new Map<string, (m: Record<string, unknown>) => void>();
far.on('message', (m: Record<string, unknown>) => pending.get(String(m['id'] ?? m['op']))?.(m));
const ask = (key: string, msg: object): Promise<Record<string, unknown>> => new Promise((r) => {
  pending.set(key, r);
  far.send(msg);
});

async function run(plane: WorkerMediaPlane, mode: Mode, n: number): Promise<Record<string, number | string>> {
  const engine: EngineTarget = mode === 'echo' ? { kind: 'builtin', name: 'echo' } : { kind: 'webrtc', name: 'bench', codecs: [mode === 'webrtc-opus' ? 'opus' : 'PCMU'], connectTimeoutMs: 10_000 };
  const calls: { s: MediaSession; sock: dgram.Socket; rx: number }[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${mode}-${n}-${i}`;
    const s = await plane.open({ callId: id, engine, meta: { callSid: id, streamSid: id, accountSid: 'bench', sipCallId: id, agentId: 'a', number: 'n', caller: 'c', dnis: 'd', profile: 'p', vendor: {}, custom: {} }, failure: { policy: 'hangup', reconnectWindowMs: 0 } });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const call = { s, sock, rx: 0 };
    // Only echoed audio counts: the pacer sends silence (0xff) when nothing came back in time.
    sock.on('message', (m) => {
      if (m.length >= 16 && m.readUInt32BE(12) !== 0xffffffff) call.rx++;
    });
    s.update({ codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, remote: { address: '127.0.0.1', port: sock.address().port }, direction: 'sendrecv', ptime: 20 });
    const answered = new Promise<void>((resolve) => {
      s.onSignal = (sig) => {
        if (sig.type === 'offer') void ask(id, { op: 'offer', id, sdp: sig.sdp, codec: mode === 'webrtc-opus' ? 'opus' : 'PCMU' }).then((a) => (s.signal({ type: 'answer', sdp: String(a['sdp']) }), resolve()));
      };
    });
    s.start();
    if (mode !== 'echo') await answered;
    calls.push(call);
  }
  // One timer paces every caller: 160 bytes of a mu-law pattern per 20 ms (drift-free).
  let seq = 0;
  const t0 = performance.now();
  let sent = 0;
  let counting = false;
  const payload = Buffer.alloc(172);
  payload[0] = 0x80;
  const tick = (): void => {
    seq++;
    payload.writeUInt16BE(seq & 0xffff, 2);
    payload.writeUInt32BE((seq * 160) >>> 0, 4);
    for (let i = 0; i < calls.length; i++) {
      payload.writeUInt32BE(i + 1, 8);
      for (let j = 12; j < 172; j++) payload[j] = (j * 7 + seq) & 0xff;
      calls[i]!.sock.send(payload, calls[i]!.s.localPort, '127.0.0.1');
      if (counting) sent++;
    }
    timer = setTimeout(tick, Math.max(0, t0 + (seq + 1) * 20 - performance.now()));
  };
  let timer = setTimeout(tick, 0);
  await sleep(WARMUP_MS);
  const rx0 = calls.reduce((a, c) => a + c.rx, 0);
  const cpu0 = process.cpuUsage();
  const far0 = (await ask('stats', { op: 'stats' }))['cpu'] as NodeJS.CpuUsage;
  counting = true;
  await sleep(WINDOW_MS);
  counting = false;
  const cpu = process.cpuUsage(cpu0);
  const far1 = (await ask('stats', { op: 'stats' }))['cpu'] as NodeJS.CpuUsage;
  const rx = calls.reduce((a, c) => a + c.rx, 0) - rx0;
  clearTimeout(timer);
  for (const c of calls) {
    c.s.close();
    c.sock.close();
  }
  await sleep(500);
  const pct = (us: number): number => Math.round((us / 1000 / WINDOW_MS) * 1000) / 10; // % of one core
  const own = pct(cpu.user + cpu.system);
  const farCpu = mode === 'echo' ? 0 : pct(far1.user + far1.system - far0.user - far0.system);
  return { mode, calls: n, cpuPct: own, cpuPerCallPct: Math.round((own / n) * 100) / 100, farCpuPerCallPct: Math.round((farCpu / n) * 100) / 100, lossPct: Math.round(Math.max(0, 1 - rx / sent) * 1000) / 10 };
}

async function main(): Promise<void> {
  await new Promise<void>((r) => pending.set('ready', () => r()));
  const steps = process.argv.slice(2).map(Number).filter((x) => x > 0);
  const plane = new WorkerMediaPlane({ host: '127.0.0.1', portMin: 47000, portMax: 47999, workers: 1, settings: { host: '127.0.0.1', rtpTimeoutMs: 0, jitterMinMs: 40, jitterMaxMs: 200, engineBufferFrames: 500 } });
  const rows = [];
  for (const n of steps.length ? steps : [10, 25]) {
    for (const mode of ['echo', 'webrtc-pcmu', 'webrtc-opus'] as const) {
      const r = await run(plane, mode, n);
      console.log(JSON.stringify(r));
      rows.push(r);
    }
  }
  console.table(rows);
  await plane.close();
  far.send({ op: 'close' });
}

void main().catch((e) => {
  console.error(e);
  far.kill();
  process.exit(2);
});
