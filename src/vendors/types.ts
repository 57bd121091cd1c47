/**
 * The two-way contact-center boundary. Commands go out through `VendorAdapter`; what a platform
 * pushes or calls in with comes back as `InboundEvent`s; everything that differs between platforms
 * and that the call and agent layers must decide by (ids in the INVITE, the wrap-up plan, when to
 * answer, how to keep an agent signed in, which state may take a call) is a `ContactCenterPolicy`.
 * It speaks in agent ids and call ids, never in a vendor's HTTP dialect. Each vendor folder
 * (src/vendors/<name>/) implements it next to its strict simulator and registers a
 * `ContactCenterPlugin` (src/vendors/registry.ts).
 *
 * Shape checked against the platforms in ../shared/vendors: LiveVox (session + agent REST),
 * a CCaaS voice-adapter API (accept/end/hold callbacks), an agent session/channel protocol
 * (ready / not ready / after-call-work) and Huawei AICC (sign in, say free/busy, work, release):
 * all of them map onto agent lifecycle + call ids + call actions + wrap-up.
 */

/** A virtual agent as the vendor knows it. Secrets are resolved from the environment by config. */
export interface VendorAgent {
  /** Our agent id (config). */
  id: string;
  /** Vendor login name. */
  user: string;
  password: string;
  /** Vendor service / queue the agent joins. */
  serviceId: string;
  /** The 899 number the vendor dials to reach this agent. */
  number: string;
}

/** The vendor's identifiers of the current call (LiveVox: callTransactionId, callSessionId, ...). */
export interface VendorCallIds {
  transactionId?: string;
  sessionId?: string;
  serviceId?: string;
  account?: string;
  phoneDialed?: string;
  [key: string]: string | undefined;
}

export type VendorAgentState = 'logged-out' | 'logged-in' | 'ready' | 'not-ready' | 'in-call' | 'wrap-up' | 'unknown';

/** A failure the caller can act on: `retryable` says whether trying again may succeed. */
export class VendorError extends Error {
  override readonly name = 'VendorError';
  constructor(
    message: string,
    /** Which vendor operation failed, e.g. 'livevox setTermCode'. */
    readonly operation: string,
    readonly retryable: boolean,
    /** HTTP status or vendor code when there is one. */
    readonly code?: number | string,
  ) {
    super(message);
  }
}

export interface TransferTarget {
  phonebook?: string;
  contact?: string;
}

export interface VendorAdapter {
  readonly name: string;

  // ---- agent lifecycle
  /** Log the agent in and join its service (idempotent: an existing valid session is reused). */
  login(agent: VendorAgent): Promise<void>;
  ready(agentId: string): Promise<void>;
  notReady(agentId: string, reason?: string): Promise<void>;
  /** Leave the service and end the session. */
  logout(agentId: string): Promise<void>;
  /** What the vendor says the agent is doing now. */
  status(agentId: string): Promise<{ state: VendorAgentState; call?: VendorCallIds }>;

  // ---- the call
  /** The vendor's ids for the agent's current call; `hint` are ids the INVITE already carried. */
  callIds(agentId: string, hint: VendorCallIds): Promise<VendorCallIds>;
  /** Screen-pop data a human agent would see (account, phone, name, ...). */
  screenPop(agentId: string): Promise<Record<string, string>>;
  /**
   * Hand the caller to a human the platform's way. Either the platform does it (LiveVox: conference
   * the target in, confirm the human joined, leave the conference) and this resolves when our leg
   * may end, or it resolves with the SIP target the call layer transfers the caller to with REFER
   * (a platform whose address book names a destination, not a transfer command).
   */
  transfer(agentId: string, ids: VendorCallIds, target: TransferTarget): Promise<void | { referTo: string }>;

  // ---- wrap-up (each step is retried from the durable outbox until confirmed)
  /** Set the call's term code (by name or id). Must be safe to retry: a repeat is not an error. */
  setTermCode(agentId: string, ids: VendorCallIds, termCode: string, notes?: string): Promise<void>;
  updateContact(agentId: string, account: string, fields: Record<string, string>): Promise<void>;

  // ---- inbound (optional: platforms that push events or call in)
  /** Start delivering the platform's events to `sink`; returns the way to stop. */
  subscribe?(sink: InboundSink): () => void;
  /** Keep-alive for platforms whose session lives on a heartbeat (policy.keepAlive 'heartbeat'). */
  heartbeat?(agentId: string): Promise<void>;
  /**
   * Counters of the platform link (requests, failure answers, timeouts, reconnects, messages it
   * could not use), summed over agents; exported as vagw_contact_center_events_total{vendor,kind}.
   */
  counters?(): Record<string, number>;
}

/**
 * One step of a call's wrap-up, kept in the durable outbox until the platform confirmed it. The
 * kinds are the platform-neutral steps every platform in ../shared/vendors maps onto: a disposition
 * (LiveVox term code, Huawei `work`, agent-session `notready {acw}`), a contact update, and the
 * agent back to Ready. The names are stored on disk: keep them stable across versions.
 */
export type WrapStep =
  | { kind: 'termCode'; agentId: string; callId: string; ids: VendorCallIds; termCode: string }
  | { kind: 'contact'; agentId: string; callId: string; account: string; fields: Record<string, string> }
  /** `notBefore` (epoch ms): not sent earlier (an overload refusal's Retry-After). */
  | { kind: 'ready'; agentId: string; callId: string; notBefore?: number };

/** A call action a platform asks for (CCaaS adapter callbacks, Huawei events, agent-session commands). */
export type PlatformAction =
  | { kind: 'accept' }
  | { kind: 'end'; termCode?: string }
  | { kind: 'hold' }
  | { kind: 'resume' }
  | { kind: 'mute' }
  | { kind: 'unmute' }
  | { kind: 'transfer'; target: TransferTarget & { number?: string } };

/** What the call layer answers to a platform's action: done, or refused with a reason and a status. */
export type ActionOutcome = { ok: true } | { ok: false; status: 404 | 409 | 422 | 501; reason: string };

/** What a platform pushes (long poll, WebSocket event) or calls in with (adapter endpoints). */
export type InboundEvent =
  /**
   * The platform's own view of the agent (shown in /agents). A change the platform made by itself
   * may take the agent out of service; `ours` marks the confirmation of our own command (recorded only).
   */
  | { type: 'agent-state'; agentId: string; state: VendorAgentState; reason?: string; ours?: boolean }
  /** The platform released the call on its side (customer hung up there, supervisor ended it). */
  | { type: 'call-released'; agentId: string; ids?: VendorCallIds }
  /** A call action, applied through the same state machine as engine and REST actions. */
  | { type: 'call-action'; agentId: string; ids?: VendorCallIds; action: PlatformAction; respond?: (o: ActionOutcome) => void };

/** Where a platform's inbound events are delivered (the process wiring routes them). */
export type InboundSink = (ev: InboundEvent) => void;

/** How a call ended, as the wrap-up plan needs it. */
export interface WrapUpInput {
  callId: string;
  agentId: string;
  ids: VendorCallIds;
  /** The term code chosen for the outcome (the engine's own, else the profile's mapping). */
  termCode: string;
  /** False when the call was refused or cancelled before it was answered. */
  answered: boolean;
}

/** The per-platform decisions the call and agent layers take without naming a platform. */
export interface ContactCenterPolicy {
  /** The platform's call ids an INVITE carries (LiveVox: X-transaction-id, Session-ID). */
  idsFromInvite(header: (name: string) => string | undefined): VendorCallIds;
  /** Whether these ids name a call the platform routed (something to put a disposition on). */
  isPlatformCall(ids: VendorCallIds): boolean;
  /** Whether two sets of ids name the same platform call (its call id under the platform's key). */
  sameCall(a: VendorCallIds, b: VendorCallIds): boolean;
  /** The wrap-up steps of a call that ends with this outcome, in the order the platform requires. */
  wrapUpPlan(input: WrapUpInput): WrapStep[];
  /** Answer the INVITE at once, or only when the platform accepts the call (`accept` action). */
  answer: 'immediately' | 'on-accept';
  /** How an idle agent is kept signed in: a state cycle every N minutes, or the adapter's heartbeat. */
  keepAlive: { kind: 'state-cycle'; everyMinutes: number } | { kind: 'heartbeat'; everySeconds: number } | { kind: 'none' };
  /** Whether the platform's state for an agent means it may be offered a call. */
  mayTakeCall(state: VendorAgentState): boolean;
}
