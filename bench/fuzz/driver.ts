/**
 * The fuzz driver: sends mutated SIP to a running gateway over UDP and TCP at a bounded rate,
 * checks it is alive (an OPTIONS from a separate socket must get 200) every `livenessEvery`
 * messages, and holds the TCP listener under the abuse it must survive: idle connections from
 * many source addresses, slow writers trickling a message byte by byte, messages cut into
 * partial frames. The gateway runs in a process of its own (its pid gives RSS and descriptors).
 */
import dgram from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { carrierSeeds, corpusSeeds, mutate, prng } from '../../test/helpers/sip-mutate.js';

export interface FuzzOptions {
  host: string;
  port: number;
  /** Repository root (for the corpora). */
  root: string;
  count: number;
  ratePerSec: number;
  seed: number;
  /** Share of messages sent over TCP (0..1). */
  tcpShare: number;
  livenessEvery: number;
  /** Idle TCP connections opened (spread over `idleSources` loopback addresses 127.0.1.x). */
  idleConnections: number;
  idleSources: number;
  /** Slow writers: connections sending one message a byte at a time. */
  slowWriters: number;
  /** The gateway's pid, for RSS and descriptors and to notice a crash. */
  pid?: number;
  /** A dialled number that reaches an agent (the INVITE seeds call it). */
  number: string;
  /** Wait this long at the end for the gateway to close idle and slow connections (ms). */
  settleMs: number;
  /** Sample the gateway's RSS and descriptors every this many messages (default 50 000). */
  sampleEvery?: number;
}

export interface FuzzResult {
  sent: number;
  udp: number;
  tcp: number;
  elapsedS: number;
  ratePerSec: number;
  liveness: { checks: number; failures: number; maxMs: number };
  tcpConnections: number;
  tcpClosedByGateway: number;
  idle: { opened: number; refusedAtOnce: number; closedByGateway: number; stillOpen: number };
  slowWriters: { opened: number; closedByGateway: number };
  before?: ProcStat;
  after?: ProcStat;
  /** The gateway's RSS and descriptors every `sampleEvery` messages. */
  samples: (ProcStat & { sent: number })[];
  crashed: boolean;
}

export interface ProcStat {
  rssMB: number;
  fds: number;
}

export function procStat(pid: number): ProcStat | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    return { rssMB: Math.round(rss * 10) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Fields after the command: state is [0], utime [11], stime [12] (proc(5) fields 14 and 15).
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

const alive = (pid?: number): boolean => {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** OPTIONS from its own socket: resolves with the round trip in ms, or -1 after 2 s. */
async function probe(host: string, port: number, i: number): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const p = s.address().port;
  const msg = [
    `OPTIONS sip:ping@${host}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${p};branch=z9hG4bKlive${i}-${Date.now()};rport`,
    'Max-Forwards: 70',
    `From: <sip:monitor@127.0.0.1>;tag=m${i}`,
    `To: <sip:ping@${host}>`,
    `Call-ID: live-${i}-${Date.now()}@127.0.0.1`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (v: number): void => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(-1), 2000);
    s.on('message', (m) => {
      if (m.toString('latin1').startsWith('SIP/2.0 200')) done(performance.now() - t0);
    });
    s.send(msg, port, host);
  });
}

interface Tracked {
  sock: net.Socket;
  closedByPeer: boolean;
  closed: boolean;
}

function openTcp(host: string, port: number, localAddress?: string): Promise<Tracked> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    const t: Tracked = { sock, closedByPeer: false, closed: false };
    // A reset from the gateway (it closed a connection with our bytes unread) is its close too.
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') t.closedByPeer = true;
    });
    sock.on('data', () => undefined);
    sock.on('end', () => (t.closedByPeer = true));
    sock.on('close', () => {
      t.closed = true;
      resolve(t);
    });
    sock.once('connect', () => resolve(t));
  });
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const rnd = prng(o.seed);
  const seeds = [...corpusSeeds(o.root), ...carrierSeeds(o.number)];
  const before = o.pid !== undefined ? procStat(o.pid) : undefined;
  const res: FuzzResult = {
    sent: 0, udp: 0, tcp: 0, elapsedS: 0, ratePerSec: 0,
    liveness: { checks: 0, failures: 0, maxMs: 0 },
    tcpConnections: 0, tcpClosedByGateway: 0,
    idle: { opened: 0, refusedAtOnce: 0, closedByGateway: 0, stillOpen: 0 },
    slowWriters: { opened: 0, closedByGateway: 0 },
    ...(before ? { before } : {}),
    samples: [],
    crashed: false,
  };

  // Idle connections from many source addresses: the per-source cap refuses some at once, the
  // message deadline closes the rest.
  const idle: Tracked[] = [];
  for (let i = 0; i < o.idleConnections; i++) {
    idle.push(await openTcp(o.host, o.port, `127.0.1.${1 + (i % Math.max(1, o.idleSources))}`));
  }
  res.idle.opened = idle.length;
  await sleep(200);
  res.idle.refusedAtOnce = idle.filter((t) => t.closed).length;

  // Slow writers: a valid OPTIONS, one byte every 200 ms, never finished within the deadline.
  const slow: Tracked[] = [];
  const slowTimers: NodeJS.Timeout[] = [];
  for (let i = 0; i < o.slowWriters; i++) {
    const t = await openTcp(o.host, o.port);
    slow.push(t);
    const bytes = carrierSeeds(o.number)[6]!;
    let k = 0;
    slowTimers.push(
      setInterval(() => {
        if (!t.closed && k < bytes.length) t.sock.write(bytes.subarray(k, ++k));
      }, 200),
    );
  }
  res.slowWriters.opened = slow.length;

  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  udp.on('message', () => undefined);
  udp.on('error', () => undefined);
  let tcpConn: Tracked | undefined;

  const started = performance.now();
  const batch = Math.max(1, Math.round(o.ratePerSec / 100));
  for (let i = 0; i < o.count; ) {
    const tick = performance.now();
    for (let k = 0; k < batch && i < o.count; k++, i++) {
      const m = mutate(seeds[rnd(seeds.length)]!, rnd);
      if (rnd(1000) < o.tcpShare * 1000) {
        if (!tcpConn || tcpConn.closed) {
          if (tcpConn?.closedByPeer) res.tcpClosedByGateway++;
          tcpConn = await openTcp(o.host, o.port);
          res.tcpConnections++;
        }
        // Partial frames: the message cut at a random point, the rest in a later write.
        const cut = rnd(m.length + 1);
        tcpConn.sock.write(m.subarray(0, cut));
        if (cut < m.length) tcpConn.sock.write(m.subarray(cut));
        res.tcp++;
      } else {
        if (m.length <= 65_507) udp.send(m, o.port, o.host);
        res.udp++;
      }
      res.sent++;
      if (res.sent % o.livenessEvery === 0) {
        const ms = await probe(o.host, o.port, res.sent);
        res.liveness.checks++;
        if (ms < 0) res.liveness.failures++;
        else res.liveness.maxMs = Math.max(res.liveness.maxMs, Math.round(ms * 10) / 10);
        if (o.pid !== undefined && res.sent % (o.sampleEvery ?? 50_000) === 0) {
          const p = procStat(o.pid);
          if (p) res.samples.push({ sent: res.sent, ...p });
        }
        if (!alive(o.pid)) {
          res.crashed = true;
          break;
        }
      }
    }
    if (res.crashed) break;
    const wait = 10 - (performance.now() - tick);
    if (wait > 0) await sleep(wait);
  }
  res.elapsedS = Math.round((performance.now() - started) / 100) / 10;
  res.ratePerSec = Math.round(res.sent / Math.max(0.001, res.elapsedS));

  await sleep(o.settleMs);
  for (const t of slowTimers) clearInterval(t);
  res.idle.closedByGateway = idle.filter((t) => t.closedByPeer).length;
  res.idle.stillOpen = idle.filter((t) => !t.closed).length;
  res.slowWriters.closedByGateway = slow.filter((t) => t.closedByPeer).length;
  const final = await probe(o.host, o.port, -1);
  res.liveness.checks++;
  if (final < 0) res.liveness.failures++;
  for (const t of [...idle, ...slow]) t.sock.destroy();
  tcpConn?.sock.destroy();
  udp.close();
  await sleep(300);
  if (o.pid !== undefined) {
    res.crashed ||= !alive(o.pid);
    const after = procStat(o.pid);
    if (after) res.after = after;
  }
  return res;
}
