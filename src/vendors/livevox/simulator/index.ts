/**
 * The strict LiveVox API simulator: the sandbox mode of the product and the test double of the
 * LiveVox adapter. See ./README.md (one level up) for the rules it enforces.
 */
import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
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

  const server = await startServer({ host, port: opts.port ?? 0, state, faults, logger, admin: { state, faults } });
  logger.info({ port: server.port }, 'livevox simulator listening');
  return {
    url: `http://${host}:${server.port}`,
    port: server.port,
    state,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await server.close();
    },
    setFaults: (f) => faults.set(f),
    expireSessions: () => state.expireSessions(),
    startCall: (agent, call) => startCallOp(state, agent, call),
    endCall: (transactionId, by) => endCallOp(state, transactionId, by),
    on: (event, cb) => events.on(event, cb),
  };
}
