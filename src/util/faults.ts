/**
 * The process-wide fault boundary. A bug reached by one message, socket event or timer must cost
 * that message (answered 500 where it can be), never the process: every socket and timer callback
 * on the SIP, HTTP, WebSocket and media-control paths runs inside `guard`, which logs the error
 * with its context (the call id where there is one), counts it by where it happened
 * (`vagw_internal_errors_total{where}`) and returns. Dependency-free so every layer may use it.
 */

/** The logger shape we need (pino's `error(obj, msg)`), so this module imports no logger. */
export interface FaultLogger {
  error(obj: Record<string, unknown>, msg: string): void;
}

export class Faults {
  /** Internal errors by where they were caught. */
  readonly counts = new Map<string, number>();
  private log?: FaultLogger;
  private listener?: (where: string, err: Error, context: Record<string, unknown>) => void;

  /** Where faults with no logger of their own are logged (the process logger, set at start). */
  setLogger(log: FaultLogger): void {
    this.log = log;
  }

  /** Also hand every fault to `fn` (a media worker thread forwards its faults to the main thread). */
  onRecord(fn: (where: string, err: Error, context: Record<string, unknown>) => void): void {
    this.listener = fn;
  }

  /** Count and log one caught fault. Never throws. */
  record(where: string, err: unknown, context: Record<string, unknown> = {}, log?: FaultLogger): void {
    this.counts.set(where, (this.counts.get(where) ?? 0) + 1);
    const e = err instanceof Error ? err : new Error(String(err));
    try {
      (log ?? this.log)?.error({ ...context, where, err: { type: e.name, message: e.message, stack: e.stack } }, 'internal error contained');
      this.listener?.(where, e, context);
    } catch {
      // A logger or listener that throws must not turn a contained fault into a crash.
    }
  }

  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}

/** The one registry of the process (tests may read it; each gateway's /metrics exports it). */
export const faults = new Faults();

/**
 * Wrap a callback so that a throw (or a rejected promise it returns) is recorded as a fault of
 * `where` instead of escaping into the event loop. `onFault` may answer what can be answered.
 */
export function guard<A extends unknown[]>(
  where: string,
  fn: (...args: A) => unknown,
  opts: { log?: FaultLogger; context?: (...args: A) => Record<string, unknown>; onFault?: (err: unknown, ...args: A) => void } = {},
): (...args: A) => void {
  const fail = (err: unknown, args: A): void => {
    let ctx: Record<string, unknown> = {};
    try {
      ctx = opts.context?.(...args) ?? {};
    } catch {
      /* context is best effort */
    }
    faults.record(where, err, ctx, opts.log);
    try {
      opts.onFault?.(err, ...args);
    } catch (e2) {
      faults.record(`${where}.onFault`, e2, ctx, opts.log);
    }
  };
  return (...args: A): void => {
    try {
      const r = fn(...args);
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, (e: unknown) => fail(e, args));
    } catch (e) {
      fail(e, args);
    }
  };
}
