/**
 * The strict agent-session simulator: the sandbox of `contactCenter.vendor: agent-session` and the
 * test double of its adapter. See state.ts for the rules and server.ts for the wire.
 */
import pino, { type Logger } from 'pino';
import type { AddressBook, ReasonCode } from '../wire.js';
import { startServer, type SimFaults, type SimServer } from './server.js';
import { DEFAULT_REASON_CODES, SimState, type SimAgent, type SimCall } from './state.js';

export type { SimAgent, SimCall, SimFaults };
export { SimFailure } from './state.js';

export interface AgentSessionSimulatorOptions {
  /** 0 (the default): an ephemeral port. Loopback only. */
  port?: number;
  agents: SimAgent[];
  reasonCodes?: ReasonCode[];
  addressBook?: AddressBook[];
  /** Epoch ms; default Date.now. */
  now?: () => number;
  logger?: Logger;
}

export interface AgentSessionSimulator {
  /** ws://127.0.0.1:<port>/agent-session */
  readonly url: string;
  /** http://127.0.0.1:<port> (the admin API under /__sim). */
  readonly adminUrl: string;
  readonly state: SimState;
  readonly faults: SimFaults;
  readonly server: SimServer;
  startCall(agent: string, caller?: string): SimCall;
  endCall(contactId: string, by: 'customer' | 'agent'): SimCall;
  on(event: 'call-started', fn: (call: SimCall) => void): void;
  on(event: 'call-ended', fn: (call: SimCall, by: 'customer' | 'agent') => void): void;
  close(): Promise<void>;
}

export const DEFAULT_ADDRESS_BOOK: AddressBook[] = [
  {
    name: 'Humans',
    groups: [],
    entries: [
      { name: 'Tier 1', type: 'skill', destinations: [{ label: 'skill', value: '4001' }], properties: { mediaType: 'voice' } },
      { name: 'Supervisor', type: 'external', destinations: [{ label: 'mobile', value: '+15550100100' }], properties: {} },
    ],
  },
];

export async function startAgentSessionSimulator(opts: AgentSessionSimulatorOptions): Promise<AgentSessionSimulator> {
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'agent-session-sandbox' });
  const state = new SimState(opts.agents, opts.reasonCodes ?? DEFAULT_REASON_CODES, opts.addressBook ?? DEFAULT_ADDRESS_BOOK, opts.now ?? (() => Date.now()));
  const faults: SimFaults = {};
  const started: ((c: SimCall) => void)[] = [];
  const ended: ((c: SimCall, by: 'customer' | 'agent') => void)[] = [];
  const fire = <A extends unknown[]>(list: ((...a: A) => void)[], ...a: A): void => {
    for (const fn of list) {
      try {
        fn(...a);
      } catch (e) {
        log.error({ err: (e as Error).message }, 'agent-session sim: listener threw');
      }
    }
  };
  const server = await startServer(opts.port ?? 0, {
    state,
    log,
    faults,
    callStarted: (id) => fire(started, state.calls.get(id)!),
    callEnded: (id, by) => fire(ended, state.calls.get(id)!, by),
  });
  return {
    url: server.url,
    adminUrl: `http://127.0.0.1:${server.port}`,
    state,
    faults,
    server,
    startCall: (agent, caller = '+13125550100') => {
      const c = state.startCall(agent, caller);
      fire(started, c);
      return c;
    },
    endCall: (contactId, by) => {
      const wasOpen = state.calls.get(contactId)?.endedAt === undefined;
      const c = state.endCall(contactId, by);
      if (wasOpen) fire(ended, c, by);
      return c;
    },
    on: (event: 'call-started' | 'call-ended', fn: never) => void (event === 'call-started' ? started.push(fn) : ended.push(fn)),
    close: () => server.close(),
  };
}
