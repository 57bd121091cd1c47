/**
 * The media plane as the main thread sees it: N worker threads, each with a slice of the RTP port
 * range. A call is placed on the worker with the fewest sessions; its RTP socket and its engine
 * socket live there. The main thread only exchanges control messages. A worker that dies ends its
 * calls (each through the call's single end path) and is replaced.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EngineControl } from './engine/types.js';
import type { FromWorker, ToWorker, WorkerInit, WorkerStats } from './worker/protocol.js';
import type { LiveMediaStats, MediaEndReason, MediaParams, MediaPlane, MediaSession, MediaSessionStats, MediaSettings, OpenRequest, WebRtcSignal } from './types.js';
import { faults, guard } from '../src/util/faults.js';

/**
 * A media worker allocates fast but keeps little: per packet, short-lived buffers and objects.
 * V8 grows the young generation of such a thread to its maximum (tens of MB per worker, never
 * returned), which was most of the gateway's memory per call under load. Capped, scavenges come
 * more often and stay as cheap (they cost by what survives, which is the few in-flight packets).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

export class MediaUnavailable extends Error {
  override readonly name = 'MediaUnavailable';
}

/** The compiled worker entry: next to this file when running from dist, else in dist/. */
function workerUrl(): URL {
  const here = new URL('./worker/main.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  // Running from TypeScript sources (tests): use the build `npm test` makes first.
  return new URL('../dist/media/worker/main.js', import.meta.url);
}

const emptyStats = (): MediaSessionStats => ({
  packetsIn: 0, packetsOut: 0, packetsDropped: 0, lost: 0, late: 0, dtmfIn: 0, dtmfOut: 0,
  engineFramesIn: 0, engineFramesOut: 0, engineReconnects: 0, backpressureDrops: 0, realtimeTrimmed: 0, engineClears: 0, engineRejected: 0,
});

class SessionProxy implements MediaSession {
  stats = emptyStats();
  onEnd?: (reason: MediaEndReason, detail?: string) => void;
  onControl?: (ev: EngineControl) => void;
  onDtmf?: (digit: string) => void;
  onNotice?: (text: string) => void;
  onSignal?: (s: WebRtcSignal) => void;
  closed = false;
  private ended = false;
  readonly final: Promise<MediaSessionStats>;
  /** @internal The worker reported the session closed (or died): its final counters. */
  settle!: (stats: MediaSessionStats) => void;

  constructor(
    private readonly w: MediaWorker,
    readonly callId: string,
    readonly localPort: number,
  ) {
    this.final = new Promise((resolve) => (this.settle = resolve));
  }

  update(params: MediaParams): void {
    this.w.post({ op: 'update', callId: this.callId, params });
  }
  start(custom?: Record<string, string>): void {
    this.w.post({ op: 'start', callId: this.callId, ...(custom ? { custom } : {}) });
  }
  dtmfFromCaller(digit: string): void {
    this.w.post({ op: 'dtmf', callId: this.callId, digit });
  }
  engineEvent(name: string, data: Record<string, unknown>): void {
    this.w.post({ op: 'event', callId: this.callId, name, data });
  }
  dtmfToCaller(digits: string): void {
    this.w.post({ op: 'dtmf-out', callId: this.callId, digits });
  }
  hold(on: boolean, kind: 'hold' | 'mute' = 'hold'): void {
    this.w.post({ op: 'hold', callId: this.callId, on, kind });
  }
  engineError(code: string, message: string): void {
    this.w.post({ op: 'engine-error', callId: this.callId, code, message });
  }
  signal(signal: WebRtcSignal): void {
    if (!this.closed) this.w.post({ op: 'signal', callId: this.callId, signal });
  }
  close(reason = 'call ended'): void {
    if (this.closed) return;
    this.closed = true;
    this.w.post({ op: 'close', callId: this.callId, reason });
  }
  /** The media side ends the call: reported once. */
  end(reason: MediaEndReason, detail?: string): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    this.onEnd?.(reason, detail);
  }
}

class MediaWorker {
  worker!: Worker;
  readonly sessions = new Map<string, SessionProxy>();
  private pendingOpen = new Map<string, { resolve: (p: number) => void; reject: (e: Error) => void }>();
  private pendingStats = new Map<number, (s: WorkerStats) => void>();
  private pendingLive = new Map<number, (calls: LiveMediaStats[]) => void>();
  private reqId = 0;
  private stopping = false;
  portsInUse = 0;
  portsFree: number;
  /** The worst pacer lateness of the worker's last two load reports (the lower: one spike is not overload), ms. */
  lateMs = 0;
  private lastLateMs = 0;

  constructor(
    private readonly init: WorkerInit,
    private readonly onDied: (w: MediaWorker, err: string) => void,
  ) {
    this.portsFree = Math.floor((init.portMax - init.portMin + 1) / 2);
    this.spawn();
  }

  private spawn(): void {
    this.worker = new Worker(workerUrl(), { workerData: this.init, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    // Fault boundary of the media-control path: one bad message from a worker costs that message.
    this.worker.on('message', guard('media.control', (m: FromWorker) => this.onMessage(m), { context: (m: FromWorker) => ({ op: m.op, callId: (m as { callId?: string }).callId }) }));
    this.worker.on('error', (e) => this.died(e.message));
    this.worker.on('exit', (code) => {
      if (!this.stopping) this.died(`exited with code ${code}`);
    });
  }

  private died(err: string): void {
    for (const p of this.pendingOpen.values()) p.reject(new MediaUnavailable(`media worker ${this.init.index} failed: ${err}`));
    this.pendingOpen.clear();
    const lost = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of lost) {
      s.end('media-failure', `media worker ${this.init.index} ${err}`);
      // The last counters the main thread has are all there will be.
      s.settle(s.stats);
    }
    this.onDied(this, err);
    if (!this.stopping) this.spawn();
  }

  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  open(req: OpenRequest): Promise<SessionProxy> {
    return new Promise<number>((resolve, reject) => {
      this.pendingOpen.set(req.callId, { resolve, reject });
      this.post({ op: 'open', req });
    }).then((port) => {
      const s = new SessionProxy(this, req.callId, port);
      this.sessions.set(req.callId, s);
      this.portsInUse++;
      this.portsFree--;
      return s;
    });
  }

  stats(): Promise<WorkerStats> {
    const id = ++this.reqId;
    return new Promise((resolve) => {
      this.pendingStats.set(id, resolve);
      this.post({ op: 'stats', reqId: id });
    });
  }

  /** Live calls' audio quality; a worker that does not answer within 1 s counts as none. */
  live(): Promise<LiveMediaStats[]> {
    const id = ++this.reqId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingLive.delete(id);
        resolve([]);
      }, 1000);
      this.pendingLive.set(id, (calls) => {
        clearTimeout(timer);
        resolve(calls);
      });
      this.post({ op: 'live', reqId: id });
    });
  }

  private onMessage(m: FromWorker): void {
    switch (m.op) {
      case 'ready':
        return;
      case 'fault': {
        const e = Object.assign(new Error(m.message), m.stack ? { stack: m.stack } : {});
        faults.record(m.where, e, { worker: this.init.index, ...(m.callId ? { callId: m.callId } : {}) });
        return;
      }
      case 'opened':
        this.pendingOpen.get(m.callId)?.resolve(m.port);
        this.pendingOpen.delete(m.callId);
        return;
      case 'open-failed':
        this.pendingOpen.get(m.callId)?.reject(new MediaUnavailable(m.error));
        this.pendingOpen.delete(m.callId);
        return;
      case 'ended':
        this.sessions.get(m.callId)?.end(m.reason, m.detail);
        return;
      case 'control':
        this.sessions.get(m.callId)?.onControl?.(m.control);
        return;
      case 'dtmf':
        this.sessions.get(m.callId)?.onDtmf?.(m.digit);
        return;
      case 'notice':
        this.sessions.get(m.callId)?.onNotice?.(m.text);
        return;
      case 'signal':
        this.sessions.get(m.callId)?.onSignal?.(m.signal);
        return;
      case 'closed': {
        const s = this.sessions.get(m.callId);
        if (s) {
          s.stats = m.stats;
          s.settle(m.stats);
          this.sessions.delete(m.callId);
          this.portsInUse--;
          this.portsFree++;
        }
        return;
      }
      case 'stats':
        this.pendingStats.get(m.reqId)?.(m.stats);
        this.pendingStats.delete(m.reqId);
        return;
      case 'load':
        this.lateMs = Math.min(this.lastLateMs, m.maxLateMs);
        this.lastLateMs = m.maxLateMs;
        return;
      case 'live':
        this.pendingLive.get(m.reqId)?.(m.calls);
        this.pendingLive.delete(m.reqId);
        return;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }
}

export interface WorkerPlaneOptions {
  host: string;
  portMin: number;
  portMax: number;
  workers: number;
  settings: MediaSettings;
  onWorkerDied?: (index: number, err: string) => void;
}

export class WorkerMediaPlane implements MediaPlane {
  private workers: MediaWorker[] = [];

  constructor(opts: WorkerPlaneOptions) {
    const n = Math.max(1, opts.workers || cpus().length);
    const pairs = Math.floor((opts.portMax - opts.portMin + 1) / 2);
    const per = Math.floor(pairs / n);
    if (per < 1) throw new MediaUnavailable(`RTP port range ${opts.portMin}..${opts.portMax} is too small for ${n} media workers`);
    for (let i = 0; i < n; i++) {
      const min = opts.portMin + i * per * 2;
      const max = i === n - 1 ? opts.portMax : min + per * 2 - 1;
      this.workers.push(new MediaWorker({ index: i, host: opts.host, portMin: min, portMax: max, settings: opts.settings }, (_w, err) => opts.onWorkerDied?.(i, err)));
    }
  }

  async open(req: OpenRequest): Promise<MediaSession> {
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.sessions.size < best.sessions.size) best = w;
    return best.open(req);
  }

  get activeSessions(): number {
    return this.workers.reduce((n, w) => n + w.sessions.size, 0);
  }

  portsInUse(): number {
    return this.workers.reduce((n, w) => n + w.portsInUse, 0);
  }

  portsFree(): number {
    return this.workers.reduce((n, w) => n + w.portsFree, 0);
  }

  /** Per-worker statistics (pacer lateness since the last call, memory, sessions). */
  stats(): Promise<WorkerStats[]> {
    return Promise.all(this.workers.map((w) => w.stats()));
  }

  /** The worst pacer lateness across workers in their last load report, ms. */
  lateMs(): number {
    return this.workers.reduce((m, w) => Math.max(m, w.lateMs), 0);
  }

  async live(): Promise<LiveMediaStats[]> {
    return (await Promise.all(this.workers.map((w) => w.live()))).flat();
  }

  /** Test and chaos hook: kill one worker as a crash would. */
  async crashWorker(index: number): Promise<void> {
    await this.workers[index]?.worker.terminate();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
