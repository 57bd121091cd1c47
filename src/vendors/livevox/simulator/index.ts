/**
 * The strict LiveVox API simulator: the sandbox mode of the product and the test double of the
 * LiveVox adapter. See ./README.md (one level up) for the rules it enforces.
 */
import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { Acd, checkArrivals, type ArrivalsConfig, type ArrivalStats } from './acd.js';
import { FaultInjector, type Faults } from './faults.js';
import { endCall as endCallOp, startCall as startCallOp } from './ops-call.js';
import { SimEmitter, type CallInput, type CallRecord, type SimAgentConfig, type SimEvents, type SimServiceConfig } from './records.js';
import { startServer } from './server.js';
import { SimState, type SimStateView } from './state.js';

export type { Faults } from './faults.js';
export type { AgentRecord, CallInput, CallRecord, ContactRecord, SimEvents, SimServiceConfig, TermCodeRecord } from './records.js';
export { SimError } from './records.js';
export type { SimSnapshot, SimStateView } from './state.js';

export interface LiveVoxSimulatorOptions {
  /** Loopback only. */
  host?: '127.0.0.1';
  /** 0 (the default) = an ephemeral port. */
  port?: number;
  accessToken: string;
  clientName: string;
  agents: SimAgentConfig[];
  services: SimServiceConfig[];
  /** Rolling session idle window; default 2 h. */
  sessionIdleMs?: number;
  /** Epoch ms; default Date.now. */
  clock?: () => number;
  faults?: Faults;
  logger?: Logger;
  /** Delay before the phonebook contact (the human) joins a conference; default 200 ms; Infinity = never. */
  conferenceJoinMs?: number;
  /** Ready from WRAPUP only once the last call has its term code; default true. */
  requireTermCodeBeforeReady?: boolean;
  /** Call records kept; default 10 000 (a load test reading every call back wants more). */
  keepCalls?: number;
}

/** The ACD's customers (./acd.ts), as the admin API shows them. */
export interface ArrivalsView {
  config: ArrivalsConfig;
  stats: ArrivalStats;
}

export interface LiveVoxSimulator {
  /** e.g. http://127.0.0.1:40123 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly state: SimStateView;
  close(): Promise<void>;
  setFaults(f: Faults): void;
  /** End every session now; returns how many ended. */
  expireSessions(): number;
  /** Route a customer call to a READY agent (user name or 899 number); throws SimError otherwise. */
  startCall(agent: string, call: CallInput): CallRecord;
  /** The customer (or the agent's SIP leg) hung up. Idempotent. */
  endCall(transactionId: string, by: 'customer' | 'agent'): CallRecord;
  on<K extends keyof SimEvents>(event: K, cb: SimEvents[K]): () => void;
  /** Customers arriving at a rate (POST /__sim/arrivals's body); throws SimError on a bad one. */
  arrivals(body: Record<string, unknown>): ArrivalsView;
  /** The ACD's customers now. */
  arrivalsNow(): ArrivalsView;
  /** The placer answers for the calls' SIP legs: a customer's talk time runs from `answered`. */
  talkFromAnswer(): void;
  answered(transactionId: string): void;
}

export async function startLiveVoxSimulator(opts: LiveVoxSimulatorOptions): Promise<LiveVoxSimulator> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error('the LiveVox simulator listens on 127.0.0.1 only');
  const conferenceJoinMs = opts.conferenceJoinMs ?? 200;
  const events = new SimEmitter((err) => logger.error({ err }, 'livevox sim: event listener threw'));
  const state = new SimState(
    {
      accessToken: opts.accessToken,
      clientName: opts.clientName,
      agents: opts.agents,
      services: opts.services,
      sessionIdleMs: opts.sessionIdleMs ?? 2 * 60 * 60 * 1000,
      clock: opts.clock ?? Date.now,
      conferenceJoinMs,
      requireTermCodeBeforeReady: opts.requireTermCodeBeforeReady ?? true,
      newId: randomUUID,
      ...(opts.keepCalls !== undefined ? { keepCalls: opts.keepCalls } : {}),
    },
    events,
  );
  const faults = new FaultInjector(opts.faults);

  // The human joins by the clock (state.tick); a timer makes it happen without waiting for a request.
  const timers = new Set<NodeJS.Timeout>();
  events.on('agent-state', (agent) => {
    if (agent.state !== 'TRANSFERRING' || !Number.isFinite(conferenceJoinMs)) return;
    const t = setTimeout(() => {
      timers.delete(t);
      state.tick();
    }, conferenceJoinMs + 1);
    t.unref();
    timers.add(t);
  });

  // The ACD runs on a 10 ms timer while it has customers (arriving, waiting or talking).
  let talkFromAnswer = false;
  const acd = new Acd(state, { now: opts.clock ?? Date.now, schedule: (fn) => void setImmediate(fn), talkFromAnswer: () => talkFromAnswer });
  let acdTimer: NodeJS.Timeout | undefined;
  let acdRuns = 0;
  const arrivalsNow = (): ArrivalsView => ({ config: acd.config, stats: acd.snapshot() });
  const arrivals = (body: Record<string, unknown>): ArrivalsView => {
    const { cfg, dropWaiting } = checkArrivals(body, `acd${++acdRuns}-`);
    acd.configure(cfg, dropWaiting);
    acdTimer ??= setInterval(() => {
      try {
        acd.tick();
      } catch (err) {
        logger.error({ err }, 'livevox sim: ACD tick failed');
      }
      if (acd.idle) {
        clearInterval(acdTimer);
        acdTimer = undefined;
      }
    }, 10);
    acdTimer.unref();
    return arrivalsNow();
  };

  const server = await startServer({ host, port: opts.port ?? 0, state, faults, logger, admin: { state, faults, arrivals, arrivalsNow } });
  logger.info({ port: server.port }, 'livevox simulator listening');
  return {
    url: `http://${host}:${server.port}`,
    port: server.port,
    state,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      clearInterval(acdTimer);
      await server.close();
    },
    setFaults: (f) => faults.set(f),
    expireSessions: () => state.expireSessions(),
    startCall: (agent, call) => startCallOp(state, agent, call),
    endCall: (transactionId, by) => endCallOp(state, transactionId, by),
    on: (event, cb) => events.on(event, cb),
    arrivals,
    arrivalsNow,
    talkFromAnswer: () => void (talkFromAnswer = true),
    answered: (transactionId) => acd.answered(transactionId),
  };
}
