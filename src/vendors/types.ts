/**
 * The one interface the call orchestrator and the agent pool use to drive a contact center.
 * It speaks in agent ids and call ids, never in a vendor's HTTP dialect. Each vendor folder
 * (src/vendors/<name>/) implements it next to its strict simulator.
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
   * Hand the caller to a human: conference the target in, confirm the human joined, and take the
   * virtual agent out of the conference. Resolves when our leg may end.
   */
  transfer(agentId: string, ids: VendorCallIds, target: TransferTarget): Promise<void>;

  // ---- wrap-up (each step is retried from the durable outbox until confirmed)
  /** Set the call's term code (by name or id). Must be safe to retry: a repeat is not an error. */
  setTermCode(agentId: string, ids: VendorCallIds, termCode: string, notes?: string): Promise<void>;
  updateContact(agentId: string, account: string, fields: Record<string, string>): Promise<void>;
}
