/**
 * A media plane for unit tests of the call layer: it implements `MediaPlane` with sessions that
 * record what they were told, ports counted from a pool so a test can assert that nothing leaks,
 * and an `open` the test can hold (to cancel a call while its media is being set up) or fail.
 */
import type { MediaPlane, MediaSession, MediaSessionStats, OpenRequest, MediaParams, WebRtcSignal } from '../types.js';

export class FakeSession implements MediaSession {
  closed = false;
  closeReason?: string;
  started = false;
  custom?: Record<string, string>;
  params?: MediaParams;
  readonly events: { name: string; data: Record<string, unknown> }[] = [];
  readonly errors: { code: string; message: string }[] = [];
  onEnd?: MediaSession['onEnd'];
  onControl?: MediaSession['onControl'];
  onDtmf?: MediaSession['onDtmf'];
  onNotice?: MediaSession['onNotice'];
  onSignal?: MediaSession['onSignal'];
  readonly stats: MediaSessionStats = { packetsIn: 0, packetsOut: 0, packetsDropped: 0, lost: 0, late: 0, dtmfIn: 0, dtmfOut: 0, engineFramesIn: 0, engineFramesOut: 0, engineReconnects: 0, backpressureDrops: 0, realtimeTrimmed: 0, engineClears: 0, engineRejected: 0 };

  constructor(
    readonly request: OpenRequest,
    private readonly port: number,
    private readonly release: () => void,
    private readonly faulty = false,
  ) {}

  get localPort(): number {
    // A bug in the media plane's answer, for the call layer's internal-error path.
    if (this.faulty) throw new TypeError('fake media plane: localPort is broken on purpose');
    return this.port;
  }

  update(params: MediaParams): void {
    this.params = params;
  }
  start(custom?: Record<string, string>): void {
    this.started = true;
    if (custom) this.custom = custom;
  }
  dtmfFromCaller(): void {}
  engineEvent(name: string, data: Record<string, unknown>): void {
    this.events.push({ name, data });
  }
  dtmfToCaller(): void {}
  /** Each hold/mute the call layer asked for, in order. */
  readonly holds: string[] = [];
  hold(on: boolean, kind: 'hold' | 'mute' = 'hold'): void {
    this.holds.push(`${kind} ${on}`);
  }
  engineError(code: string, message: string): void {
    this.errors.push({ code, message });
  }
  signal(_s: WebRtcSignal): void {}
  private settle!: (s: MediaSessionStats) => void;
  readonly final = new Promise<MediaSessionStats>((r) => (this.settle = r));
  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason !== undefined) this.closeReason = reason;
    this.release();
    // Like the worker: the final counters come after the close.
    queueMicrotask(() => this.settle({ ...this.stats }));
  }
}

type Pending = { req: OpenRequest; resolve: (s: FakeSession) => void; reject: (e: Error) => void };

export class FakeMediaPlane implements MediaPlane {
  readonly sessions: FakeSession[] = [];
  /** 'open' answers at once; 'hold' keeps each open pending until `releaseOpen`; 'fail' rejects; 'faulty' gives a broken session. */
  mode: 'open' | 'hold' | 'fail' | 'faulty' = 'open';
  private pending: Pending[] = [];
  private inUse = 0;
  private nextPort = 30_000;

  constructor(private readonly ports = 100) {}

  open(req: OpenRequest): Promise<MediaSession> {
    if (this.mode === 'fail') return Promise.reject(new Error('no RTP port free'));
    if (this.inUse >= this.ports) return Promise.reject(new Error('no RTP port free'));
    return new Promise((resolve, reject) => {
      const p: Pending = { req, resolve, reject };
      if (this.mode === 'hold') this.pending.push(p);
      else this.settle(p, this.mode === 'faulty');
    });
  }

  /** Let the held opens complete. */
  releaseOpen(): void {
    for (const p of this.pending.splice(0)) this.settle(p, false);
  }

  private settle(p: Pending, faulty: boolean): void {
    this.inUse += 2;
    const s = new FakeSession(p.req, (this.nextPort += 2), () => (this.inUse -= 2), faulty);
    this.sessions.push(s);
    p.resolve(s);
  }

  get activeSessions(): number {
    return this.sessions.filter((s) => !s.closed).length;
  }
  portsInUse(): number {
    return this.inUse;
  }
  portsFree(): number {
    return this.ports - this.inUse;
  }
  async close(): Promise<void> {
    for (const s of this.sessions) s.close('plane closed');
  }
}
