/** What the simulator remembers: configuration, agents, sessions, calls, term codes, contacts. */
import type { LineState } from '../wire.js';

export interface SimTermCodeConfig {
  id: string;
  name: string;
  lvResult?: string;
  /** Category shown in the term-code list (default 'Virtual Agent'). */
  category?: string;
}

export interface SimPhoneBookConfig {
  id: string;
  name: string;
  contacts: { id: string; name: string; phoneNumber: string }[];
}

export interface SimServiceConfig {
  id: string;
  termCodes: SimTermCodeConfig[];
  phonebooks: SimPhoneBookConfig[];
}

export interface SimAgentConfig {
  user: string;
  password: string;
}

export interface SimStateOptions {
  accessToken: string;
  clientName: string;
  agents: SimAgentConfig[];
  services: SimServiceConfig[];
  /** Rolling idle window of a session (ms). */
  sessionIdleMs: number;
  clock: () => number;
  /** Delay between conference/phonebook and the human joining; Infinity = the human never joins. */
  conferenceJoinMs: number;
  /** Ready from WRAPUP only once the last call has its term code (default true). */
  requireTermCodeBeforeReady: boolean;
  /** Session ids (default: random UUIDs). */
  newId: () => string;
  /** Call records kept (default 10 000); past it the oldest ended call is dropped. */
  keepCalls?: number;
}

export interface StateChange {
  state: LineState;
  at: number;
}

export interface AgentRecord {
  user: string;
  userId: number;
  state: LineState;
  stateChangedTime: number;
  serviceId?: string;
  /** The agent's 899 number as joined, normalised to 10 digits. */
  phoneNumber?: string;
  currentCall?: string;
  lastCall?: string;
  notReadyReason?: string;
  /** The last 200 state changes, oldest first. */
  history: StateChange[];
}

export interface SessionRecord {
  id: string;
  user: string;
  createdAt: number;
  lastUsedAt: number;
}

export interface TermCodeRecord {
  termCodeId: string;
  termCodeName: string;
  lvResult: string;
  at: number;
  moveAgentToNotReady: boolean;
  phoneDialed?: string;
  notes?: string;
}

export interface ConferenceRecord {
  phoneBookId: string;
  phoneBookContactId: string;
  startedAt: number;
  joinAt: number;
  humanJoinedAt?: number;
  agentLeftAt?: number;
}

/** What startCall takes; missing ids are generated. */
export interface CallInput {
  transactionId?: string;
  sessionId?: string;
  account?: string;
  phoneNumber?: string;
  firstName?: string;
  lastName?: string;
  /** Defaults to the service the agent joined. */
  serviceId?: string;
  /** More screen-pop rows. */
  extra?: Record<string, string>;
}

export type CallStatus = 'active' | 'with-human' | 'ended';

export interface CallRecord {
  transactionId: string;
  sessionId: string;
  serviceId: string;
  agentUser: string;
  agentNumber: string;
  account: string;
  phoneNumber: string;
  firstName: string;
  lastName: string;
  extra: Record<string, string>;
  startedAt: number;
  /** 'with-human': the virtual agent left the conference, the customer talks to the human. */
  status: CallStatus;
  held: boolean;
  endedAt?: number;
  endedBy?: 'customer' | 'agent';
  conference?: ConferenceRecord;
  /** Every accepted term code: a correct client leaves exactly one per call. */
  termCodes: TermCodeRecord[];
  /** Term-code requests refused for this call (repeats, conflicts). */
  termCodeRefusals: number;
}

export interface ContactRecord {
  account: string;
  fields: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  updates: number;
}

/** A rule the simulator enforces, answered as `status` with `{ code, message }`. */
export class SimError extends Error {
  override readonly name = 'SimError';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface SimEvents {
  'call-started': (call: CallRecord) => void;
  'human-joined': (call: CallRecord) => void;
  /** The virtual agent's leg left the conference: the placer should BYE the gateway's leg. */
  'conference-left': (call: CallRecord) => void;
  'call-ended': (call: CallRecord, by: 'customer' | 'agent') => void;
  'term-code': (call: CallRecord, termCode: TermCodeRecord) => void;
  'agent-state': (agent: AgentRecord) => void;
}

/** Typed listeners; `on` returns its disposer. A throwing listener is reported, never propagated. */
export class SimEmitter {
  private readonly sets = new Map<keyof SimEvents, Set<(...a: never[]) => void>>();
  constructor(private readonly onListenerError: (err: unknown) => void = () => undefined) {}

  on<K extends keyof SimEvents>(event: K, fn: SimEvents[K]): () => void {
    let set = this.sets.get(event);
    if (!set) this.sets.set(event, (set = new Set()));
    set.add(fn);
    return () => void set.delete(fn);
  }

  emit<K extends keyof SimEvents>(event: K, ...args: Parameters<SimEvents[K]>): void {
    for (const fn of [...(this.sets.get(event) ?? [])]) {
      try {
        (fn as unknown as (...a: Parameters<SimEvents[K]>) => void)(...args);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}

/** '+18990000001', '18990000001', '8990000001' -> '8990000001'; anything else -> undefined. */
export function normalize899(n: string): string | undefined {
  const m = /^(?:\+?1)?(899\d{7})$/.exec(n.trim());
  return m?.[1];
}
