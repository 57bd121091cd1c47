/**
 * LiveVox as a VendorAdapter. The virtual-agent flow of the integration guide:
 *   login = session login + service join (899 number) -> ready
 *   call: callIds (INVITE headers, else agent status) -> screenPop
 *   end:  setTermCode (moveAgentToNotReady false) -> ready
 *   human needed: transfer = phonebook conference -> wait for the human -> conference leave
 * Repeats are safe: "already READY/NOTREADY/joined" and "term code already set" count as done.
 */
import pino, { type Logger } from 'pino';
import { VendorError, type InboundSink, type TransferTarget, type VendorAdapter, type VendorAgent, type VendorAgentState, type VendorCallIds } from '../types.js';
import { LiveVoxApiError, type LiveVoxClient } from './client.js';
import { findTarget, toCallIds, toVendorState, TermCodeCache } from './adapter-util.js';
import { LvCode, type AgentLine } from './wire.js';

/** How the adapter recognises vendor answers; the defaults match the simulator (codes, then message text). */
export interface LiveVoxRecognizers {
  termCodeAlreadySet(e: LiveVoxApiError): boolean;
  alreadyInState(e: LiveVoxApiError): boolean;
  notJoined(e: LiveVoxApiError): boolean;
  contactMissing(e: LiveVoxApiError): boolean;
}

export const DEFAULT_RECOGNIZERS: LiveVoxRecognizers = {
  termCodeAlreadySet: (e) => e.status === 409 && (e.vendorCode === LvCode.termCodeAlreadySet || /term code already set/i.test(e.vendorMessage ?? '')),
  alreadyInState: (e) => e.status === 409 && (e.vendorCode === LvCode.alreadyInState || /\balready (READY|NOTREADY|joined)\b/i.test(e.vendorMessage ?? '')),
  notJoined: (e) => e.status === 409 && (e.vendorCode === LvCode.notJoined || /join a service|not joined/i.test(e.vendorMessage ?? '')),
  contactMissing: (e) => e.status === 404 && /contact/i.test(e.vendorMessage ?? e.message),
};

export interface LiveVoxAdapterOptions {
  client: LiveVoxClient;
  logger?: Logger;
  /** How long transfer() waits for the human to join. Default 30 s. */
  transferTimeoutMs?: number;
  /** Agent status polling interval while waiting. Default 200 ms. */
  pollMs?: number;
  /** Line of the virtual agent's calls. Default 'ACD'. */
  lineNumber?: string;
  /** 'ten-digit' sends 899XXXXXXX on service join (the guide's form); 'as-configured' sends the number unchanged. */
  joinNumberFormat?: 'ten-digit' | 'as-configured';
  /** When the contact to update does not exist, create it. Default true. */
  createMissingContacts?: boolean;
  recognizers?: Partial<LiveVoxRecognizers>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class LiveVoxAdapter implements VendorAdapter {
  readonly name = 'livevox';
  private readonly client: LiveVoxClient;
  private readonly log: Logger;
  private readonly agents = new Map<string, VendorAgent>();
  private readonly termCodes: TermCodeCache;
  private readonly is: LiveVoxRecognizers;
  private readonly sinks = new Set<InboundSink>();

  constructor(private readonly opts: LiveVoxAdapterOptions) {
    this.client = opts.client;
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.is = { ...DEFAULT_RECOGNIZERS, ...opts.recognizers };
    this.termCodes = new TermCodeCache((user, serviceId) => this.client.termCodes(user, serviceId));
  }

  /**
   * LiveVox pushes nothing: what it answers is its report. Each confirmed state change, status
   * read and routed call is passed on as the agent's state as LiveVox last reported it (/agents).
   */
  subscribe(sink: InboundSink): () => void {
    this.sinks.add(sink);
    return () => void this.sinks.delete(sink);
  }

  /** `ours`: the confirmation of our own command, not a change LiveVox made by itself. */
  private reported(agentId: string, state: VendorAgentState, reason?: string, ours = true): void {
    for (const sink of this.sinks) sink({ type: 'agent-state', agentId, state, ...(reason ? { reason } : {}), ...(ours ? { ours } : {}) });
  }

  async login(agent: VendorAgent): Promise<void> {
    this.agents.set(agent.id, agent);
    await this.client.login(agent.user, agent.password);
    await this.join(agent);
    this.reported(agent.id, 'logged-in');
  }

  async ready(agentId: string): Promise<void> {
    const a = this.agent(agentId, 'ready');
    await this.tolerant(a, () => this.client.ready(a.user));
    this.reported(agentId, 'ready');
  }

  async notReady(agentId: string, reason?: string): Promise<void> {
    const a = this.agent(agentId, 'notReady');
    await this.tolerant(a, () => this.client.notReady(a.user, reason));
    this.reported(agentId, 'not-ready', reason);
  }

  async logout(agentId: string): Promise<void> {
    const a = this.agent(agentId, 'logout');
    if (!this.client.hasSession(a.user)) return;
    try {
      await this.client.leaveService(a.user);
    } catch (err) {
      if (!(err instanceof LiveVoxApiError && this.is.notJoined(err))) throw err;
    }
    this.client.forget(a.user);
    this.reported(agentId, 'logged-out');
  }

  async status(agentId: string): Promise<{ state: VendorAgentState; call?: VendorCallIds }> {
    const a = this.agent(agentId, 'status');
    if (!this.client.hasSession(a.user)) return { state: 'logged-out' };
    const line = await this.line(a);
    if (!line) return { state: 'unknown' };
    const call = line.call ? toCallIds(line.call) : undefined;
    const state = toVendorState(line.state);
    this.reported(agentId, state, undefined, false);
    return { state, ...(call ? { call } : {}) };
  }

  async callIds(agentId: string, hint: VendorCallIds): Promise<VendorCallIds> {
    const a = this.agent(agentId, 'callIds');
    const given = Object.fromEntries(Object.entries(hint).filter(([, v]) => v !== undefined && v !== '')) as VendorCallIds;
    // LiveVox routed a call to the agent: its report that the agent is on a call.
    if (given.transactionId) this.reported(agentId, 'in-call', `call ${given.transactionId}`);
    if (given.transactionId && given.sessionId) return { serviceId: a.serviceId, ...given };
    const line = await this.line(a);
    const ids: VendorCallIds = { ...(line?.call ? toCallIds(line.call) : {}), ...given };
    if (!ids.transactionId || !ids.sessionId) {
      throw new VendorError(`livevox callIds: no call on agent ${agentId}'s ${this.lineNumber} line yet (state ${line?.state ?? 'unknown'})`, 'livevox callIds', true);
    }
    return ids;
  }

  async screenPop(agentId: string): Promise<Record<string, string>> {
    const a = this.agent(agentId, 'screenPop');
    const rows = await this.client.screenPop(a.user);
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  async transfer(agentId: string, ids: VendorCallIds, target: TransferTarget): Promise<void> {
    const a = this.agent(agentId, 'transfer');
    const serviceId = ids.serviceId ?? a.serviceId;
    const books = await this.client.phoneBooks(a.user, serviceId);
    const { book, contact } = findTarget(books, target, serviceId);
    try {
      await this.client.conferencePhonebook(a.user, book.phoneBookId, contact.phoneBookContactId, this.lineNumber);
    } catch (err) {
      // A repeat (say after a lost answer): carry on if the conference is already there.
      const line = err instanceof LiveVoxApiError && err.status === 409 ? await this.line(a) : undefined;
      if (!line?.conference) throw err;
    }
    await this.awaitHuman(a, agentId);
    await this.client.leaveConference(a.user);
    this.log.info({ agentId, phoneBook: book.name, contact: contact.contactName }, 'livevox: transferred to a human');
  }

  async setTermCode(agentId: string, ids: VendorCallIds, termCode: string, notes?: string): Promise<void> {
    const a = this.agent(agentId, 'setTermCode');
    const call = ids.transactionId && ids.sessionId ? ids : await this.callIds(agentId, ids);
    // The guide's body carries phoneDialed: from the INVITE, else from the agent's status.
    const phoneDialed = call.phoneDialed ?? (await this.phoneDialedOf(a, call));
    if (!phoneDialed) throw new VendorError(`livevox setTermCode: no phoneDialed for call ${call.transactionId} (none in the INVITE, none in agent ${agentId}'s status)`, 'livevox setTermCode', false);
    const serviceId = call.serviceId ?? a.serviceId;
    const code = await this.termCodes.resolve(a.user, serviceId, termCode);
    try {
      await this.client.setTermCode(a.user, {
        callTransactionId: call.transactionId as string,
        callSessionId: call.sessionId as string,
        termCodeId: code.id,
        moveAgentToNotReady: false,
        phoneDialed,
        ...(call.serviceId ? { serviceId: call.serviceId } : {}),
        ...(call.account ? { account: call.account } : {}),
        ...(notes !== undefined ? { notes } : {}),
      });
    } catch (err) {
      if (!(err instanceof LiveVoxApiError && this.is.termCodeAlreadySet(err))) throw err;
      this.log.info({ agentId, termCode: code.name }, 'livevox: term code was already set (repeat)');
    }
    this.reported(agentId, 'wrap-up', code.name);
  }

  async updateContact(agentId: string, account: string, fields: Record<string, string>): Promise<void> {
    const a = this.agent(agentId, 'updateContact');
    try {
      await this.client.updateContact(a.user, account, fields);
    } catch (err) {
      if (!(err instanceof LiveVoxApiError && this.is.contactMissing(err) && (this.opts.createMissingContacts ?? true))) throw err;
      await this.client.createContact(a.user, account, fields);
    }
  }

  // ---- helpers

  /** The number of the call as agent status shows it, when that is the call being wrapped up. */
  private async phoneDialedOf(a: VendorAgent, ids: VendorCallIds): Promise<string | undefined> {
    const line = await this.line(a);
    const c = line?.call ? toCallIds(line.call) : undefined;
    return c && c.transactionId === ids.transactionId ? c.phoneDialed : undefined;
  }

  private get lineNumber(): string {
    return this.opts.lineNumber ?? 'ACD';
  }

  private agent(agentId: string, op: string): VendorAgent {
    const a = this.agents.get(agentId);
    if (!a) throw new VendorError(`livevox ${op}: agent ${agentId} is unknown (log it in first)`, `livevox ${op}`, false);
    return a;
  }

  private async join(a: VendorAgent): Promise<void> {
    const digits = a.number.replace(/\D/g, '');
    const number = this.opts.joinNumberFormat === 'as-configured' ? a.number : digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
    try {
      await this.client.joinService(a.user, a.serviceId, number);
    } catch (err) {
      if (!(err instanceof LiveVoxApiError && this.is.alreadyInState(err))) throw err;
    }
  }

  /** Run a state change; "already in that state" is done, "not joined" (session lost) re-joins once. */
  private async tolerant(a: VendorAgent, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof LiveVoxApiError)) throw err;
      if (this.is.alreadyInState(err)) return;
      if (!this.is.notJoined(err)) throw err;
      this.log.info({ agent: a.id }, 'livevox: agent had left its service; joining again');
      await this.join(a);
      try {
        await fn();
      } catch (again) {
        if (!(again instanceof LiveVoxApiError && this.is.alreadyInState(again))) throw again;
      }
    }
  }

  private async line(a: VendorAgent): Promise<AgentLine | undefined> {
    const lines = await this.client.status(a.user);
    return lines.find((l) => l.lineNumber === this.lineNumber) ?? lines[0];
  }

  private async awaitHuman(a: VendorAgent, agentId: string): Promise<void> {
    const timeoutMs = this.opts.transferTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = await this.line(a);
      if (line?.conference?.humanJoined) return;
      if (!line?.conference && line?.state !== 'TRANSFERRING') {
        throw new VendorError(`livevox transfer: the conference ended before the human joined (agent ${agentId} is ${line?.state ?? 'unknown'})`, 'livevox transfer', false);
      }
      if (Date.now() >= deadline) throw new VendorError(`livevox transfer: the human did not join within ${timeoutMs} ms (agent ${agentId})`, 'livevox transfer', false);
      await sleep(Math.min(this.opts.pollMs ?? 200, Math.max(0, deadline - Date.now())));
    }
  }
}
