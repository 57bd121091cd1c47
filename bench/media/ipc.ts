/**
 * Request/reply over the Node IPC channel between the bench and its helper processes
 * (engine, relay, load generator), plus the shapes they exchange.
 */
import type { ChildProcess } from 'node:child_process';
import type { Summary } from './hist.js';

interface Request { id: number; cmd: string; args: Record<string, unknown> }
interface Reply { id: number; ok: boolean; data?: unknown; error?: string }

type Handler = (args: Record<string, unknown>) => unknown;

/** Child side: answer the parent's requests; exit when the parent goes away. */
export function serve(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('must be started with an IPC channel (child_process.fork)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw: unknown) => {
    const req = raw as Request;
    const reply = (r: Reply): void => {
      if (process.connected) process.send!(r);
    };
    const h = handlers[req.cmd];
    if (!h) return reply({ id: req.id, ok: false, error: `unknown command ${req.cmd}` });
    Promise.resolve()
      .then(() => h(req.args))
      .then(
        (data) => reply({ id: req.id, ok: true, data }),
        (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
}

/** Parent side: call a command in a forked child and wait for its reply (bounded). */
export class Rpc {
  private next = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.on('message', (raw: unknown) => {
      const r = raw as Reply;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r.data);
      else p.reject(new Error(`${name} ${r.error ?? 'failed'}`));
    });
    child.on('exit', (code, signal) => this.failAll(`${name} exited (${code ?? signal}) during a request`));
    // A send on a closed channel is reported here too: the request then fails, not the bench.
    child.on('error', (e) => this.failAll(`${name}: ${e.message}`));
  }

  private failAll(why: string): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(why));
    }
    this.pending.clear();
  }

  call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not answer '${cmd}' within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!this.child.connected) {
        clearTimeout(timer);
        return reject(new Error(`${this.name} is gone (asked '${cmd}')`));
      }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, cmd, args } satisfies Request, (err) => {
        if (!err || !this.pending.has(id)) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new Error(`${this.name}: could not send '${cmd}': ${err.message}`));
      });
    });
  }
}

// ---- what the helpers report ---------------------------------------------------------------

export interface EngineHello { wsPort: number; udpPort: number }
export interface EngineStatus { connections: number; opened: number; mediaIn: number; mediaOut: number; udpIn: number }
/** One-way latency generator -> (gateway | relay) -> engine over a measurement window. */
export interface EngineWindow { seconds: number; frames: number; latency: Summary; wsFrames: number; udpFrames: number; loopDelay: LoopDelay }
/** perf_hooks event-loop delay of a helper over the window (ms; 1 ms sampling resolution). */
export interface LoopDelay { p99: number; max: number }

/** The media workers' own view (only with the opt-in gateway entry, bench/media/gateway.ts). */
export interface GatewayInternal {
  /** Pacer lateness of every session tick against its slot, ms; `over` counts ticks > 2 ms late. */
  pacer: Summary;
  pacerTicks: number;
  pacerSkipped: number;
  workerHeapUsedKb: number[];
  mainHeapUsedKb: number;
  sessions: number;
}

export interface PlaceResult { placed: number; failed: number; failures: string[]; ms: number }
export interface HangupResult { byeOk: number; byeFailed: number; endedByGateway: number; gatewayByeReasons: Record<string, number> }

export interface GeneratorWindow {
  calls: number;
  seconds: number;
  /** Frames the 20 ms schedule asked for during the window (calls x window / 20 ms). */
  expected: number;
  sent: number;
  /** Frames eligible for loss accounting (sent in the window, minus the last 200 ms in flight). */
  counted: number;
  echoed: number;
  lost: number;
  callsWithLoss: number;
  /** Echoes of window frames later than 60 ms (round trip). */
  late: number;
  rtt: Summary;
  /** |inter-arrival - 20 ms| of every RTP packet received during the window. */
  jitter: Summary;
  received: number;
  /** How late the generator's own sends were against their 20 ms slots. */
  sendLate: Summary;
  skippedSlots: number;
  sendErrors: number;
  endedByGateway: number;
  loopDelay: LoopDelay;
}
