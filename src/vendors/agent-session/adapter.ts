/**
 * The agent session protocol as a VendorAdapter:
 *   login   = bind the session -> reason codes -> telephony channel (addchannel) -> activate (queue)
 *   ready   = channel.ready; notReady = channel.notready with a reason code the platform lists
 *   wrap-up = channel.notready {reasoncode: acw, reasondesc: <outcome>} then channel.ready
 *   events  = channel.infochanged as the boundary's agent-state
 * Every step reads the channel's state as the platform last reported it; a failure response is
 * the platform's answer (its code and message), never retried as if it were a network error.
 */
import type { Logger } from 'pino';
import { VendorError, type InboundEvent, type InboundSink, type TransferTarget, type VendorAdapter, type VendorAgent, type VendorAgentState, type VendorCallIds } from '../types.js';
import { AgentSessionClient, AgentSessionError } from './client.js';
import type { AgentSessionConfig } from './settings.js';
import { ACW, type AddressBook, type AddressEntry, type AgentStatus } from './wire.js';

/** The entry a transfer target names: `contact` in book `phonebook` (any book when not given). */
function findEntry(books: AddressBook[], t: TransferTarget): AddressEntry | undefined {
  const same = (a: string, b?: string): boolean => b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
  const inBooks = t.phonebook ? books.filter((b) => same(b.name, t.phonebook)) : books;
  const all = inBooks.flatMap((b) => [...b.entries, ...b.groups.flatMap((g) => g.entries)]);
  return t.contact ? all.find((e) => same(e.name, t.contact)) : all.length === 1 ? all[0] : undefined;
}

const STATES: Record<AgentStatus, VendorAgentState> = {
  ready: 'ready',
  not_ready: 'not-ready',
  after_call_work: 'wrap-up',
  busy: 'in-call',
  busy_ready: 'in-call',
  busy_not_ready: 'in-call',
  busy_after_call_work: 'in-call',
};

export class AgentSessionAdapter implements VendorAdapter {
  readonly name = 'agent-session';
  private readonly clients = new Map<string, AgentSessionClient>();
  private sinks = new Set<InboundSink>();
  /** Agents with a state-changing command of ours in flight: the infochanged it causes is ours. */
  private readonly commanding = new Map<string, number>();

  /** Send a state-changing command; events it causes are marked as our own (recorded, not acted on). */
  private async own(agentId: string, fn: () => Promise<unknown>): Promise<void> {
    this.commanding.set(agentId, (this.commanding.get(agentId) ?? 0) + 1);
    try {
      await fn();
    } finally {
      const n = (this.commanding.get(agentId) ?? 1) - 1;
      if (n > 0) this.commanding.set(agentId, n);
      else this.commanding.delete(agentId);
    }
  }

  constructor(
    private readonly cfg: AgentSessionConfig & { url: string },
    private readonly log: Logger,
  ) {}

  private emit(ev: InboundEvent): void {
    for (const sink of this.sinks) sink(ev);
  }

  private client(agentId: string, op: string): AgentSessionClient {
    const c = this.clients.get(agentId);
    if (!c) throw new VendorError(`agent-session ${op}: agent ${agentId} is unknown (log it in first)`, `agent-session ${op}`, false);
    return c;
  }

  /** Run a request; a platform failure becomes a VendorError with its code, not retryable. */
  private async run(agentId: string, op: string, fn: (c: AgentSessionClient) => Promise<unknown>): Promise<void> {
    try {
      await fn(this.client(agentId, op));
    } catch (e) {
      if (!(e instanceof AgentSessionError)) throw e;
      throw new VendorError(`agent-session ${op} for agent ${agentId}: ${e.code}: ${e.message}`, `agent-session ${op}`, e.transient, e.code);
    }
  }

  async login(agent: VendorAgent): Promise<void> {
    let c = this.clients.get(agent.id);
    if (!c) {
      c = new AgentSessionClient({ url: this.cfg.url, user: agent.user, password: agent.password, timeoutMs: this.cfg.timeoutMs, tlsRejectUnauthorized: this.cfg.tlsRejectUnauthorized, logger: this.log.child({ agent: agent.id }) });
      this.clients.set(agent.id, c);
      let busy = false;
      c.onEvent((e) => {
        if (e.name === 'channel.disposed') {
          // The platform took the channel away (logged the agent out): its call, if any, is released.
          if (busy) this.emit({ type: 'call-released', agentId: agent.id });
          busy = false;
          this.emit({ type: 'agent-state', agentId: agent.id, state: 'logged-out', reason: 'channel disposed by the platform' });
          return;
        }
        if (e.name === 'session.incontact.agentleg.failed') {
          // The platform cannot reach the agent's leg: no call can be delivered until signed in again.
          const why = String(e.data['error'] ?? 'agent leg failed');
          this.log.error({ agent: agent.id, err: why }, 'agent-session: the platform reports the agent leg failed');
          this.emit({ type: 'agent-state', agentId: agent.id, state: 'unknown', reason: `agent leg failed: ${why}` });
          return;
        }
        if (e.name === 'session.initialized' && !c!.channel) {
          // A (re)bound session without a telephony channel cannot take calls until signed in again.
          this.emit({ type: 'agent-state', agentId: agent.id, state: 'logged-in', reason: 'session without a telephony channel' });
          return;
        }
        if (e.name !== 'channel.infochanged' || !c!.channel?.info) return;
        busy = c!.channel.info.agentStatus.status.startsWith('busy');
        const st = c!.channel.info;
        const state = st.state === 'ACTIVE' ? STATES[st.agentStatus.status] : 'logged-in';
        const ours = this.commanding.has(agent.id);
        this.emit({ type: 'agent-state', agentId: agent.id, state, ...(st.agentStatus.lastReasonName ? { reason: st.agentStatus.lastReasonName } : {}), ...(ours ? { ours } : {}) });
      });
    }
    await this.run(agent.id, 'login', async (cl) => {
      await cl.connect();
      if (cl.reasonCodes.length === 0) await cl.request('session.request.externalnotreadyreasons', 'session');
      await this.own(agent.id, async () => {
        if (!cl.channel) await cl.request('session.request.addchannel', 'session', { type: 'TELEPHONY' });
        if (cl.channel?.info?.state !== 'ACTIVE') await cl.request('channel.activate', 'channel', { channeloptions: { queue: agent.serviceId || this.cfg.queue } });
      });
    });
  }

  async ready(agentId: string): Promise<void> {
    await this.run(agentId, 'ready', async (c) => {
      await c.connect();
      if (c.channel?.info?.agentStatus.status === 'ready') return;
      await this.own(agentId, () => c.request('channel.ready', 'channel'));
    });
  }

  async notReady(agentId: string, reason?: string): Promise<void> {
    const code = this.cfg.notReadyReasons[reason ?? 'operator'] ?? this.cfg.notReadyReasons['operator'] ?? 'break';
    await this.run(agentId, 'notReady', async (c) => {
      await c.connect();
      const st = c.channel?.info?.agentStatus;
      if (st?.status === 'not_ready' && st.lastReasonCode === code) return;
      await this.own(agentId, () => c.request('channel.notready', 'channel', { reasoncode: code, reasondesc: reason ?? 'operator' }));
    });
  }

  async logout(agentId: string): Promise<void> {
    const c = this.clients.get(agentId);
    if (!c) return;
    await this.run(agentId, 'logout', async (cl) => {
      await cl.connect();
      await this.own(agentId, async () => {
        if (cl.channel?.info?.state === 'ACTIVE') await cl.request('channel.deactivate', 'channel', { channelOptions: { reason: this.cfg.logoutReason } });
        await cl.request('session.request.logout', 'session');
      });
    });
    c.close();
    this.clients.delete(agentId);
  }

  async status(agentId: string): Promise<{ state: VendorAgentState; call?: VendorCallIds }> {
    const c = this.clients.get(agentId);
    if (!c) return { state: 'logged-out' };
    await this.run(agentId, 'status', (cl) => cl.connect());
    const info = c.channel?.info;
    if (!info) return { state: 'logged-in' };
    return { state: info.state === 'ACTIVE' ? STATES[info.agentStatus.status] : 'logged-in' };
  }

  async callIds(_agentId: string, hint: VendorCallIds): Promise<VendorCallIds> {
    return hint;
  }

  async screenPop(): Promise<Record<string, string>> {
    return {};
  }

  /**
   * A transfer names an address-book entry (book = `phonebook`, entry = `contact`); its first
   * destination is where the caller goes (REFER from the call layer). A skill with nobody
   * available in the realtime counts is refused instead of sending the caller to an empty queue.
   */
  async transfer(agentId: string, _ids: VendorCallIds, target: TransferTarget): Promise<{ referTo: string }> {
    let books: AddressBook[] = [];
    await this.run(agentId, 'addressbook', async (c) => {
      const data = await c.request('session.request.incontact.addressbook', 'session', { realtime: true });
      books = Array.isArray(data['addressbooks']) ? (data['addressbooks'] as AddressBook[]) : [];
    });
    const entry = findEntry(books, target);
    const fail = (why: string): never => {
      throw new VendorError(`agent-session transfer for agent ${agentId}: ${why}`, 'agent-session transfer', false);
    };
    if (!entry) fail(`no address-book entry '${target.contact ?? ''}'${target.phonebook ? ` in '${target.phonebook}'` : ''}; have: ${books.flatMap((b) => b.entries.map((e) => `${b.name}/${e.name}`)).join(', ') || 'none'}`);
    if (entry!.type === 'skill' && entry!.properties.numAvailable === 0) fail(`skill '${entry!.name}' has no agent available (estimated wait ${entry!.properties.ewt ?? '?'})`);
    const value = entry!.destinations[0]?.value;
    if (!value) fail(`address-book entry '${entry!.name}' has no destination`);
    return { referTo: /^(sips?|tel):/i.test(value!) ? value! : `tel:${value!.replace(/[^0-9+*#]/g, '')}` };
  }

  /** The disposition: after-call work with the outcome (once per call: a repeat is done). */
  async setTermCode(agentId: string, _ids: VendorCallIds, termCode: string): Promise<void> {
    try {
      await this.run(agentId, 'acw', async (c) => {
        await c.connect();
        await this.own(agentId, () => c.request('channel.notready', 'channel', { reasoncode: ACW, reasondesc: termCode }));
      });
    } catch (e) {
      if (e instanceof VendorError && e.code === 'AcwAlreadySet') {
        this.log.info({ agent: agentId, termCode }, 'agent-session: after-call work was already set (repeat)');
        return;
      }
      throw e;
    }
  }

  async updateContact(agentId: string): Promise<void> {
    throw new VendorError(`agent-session updateContact for agent ${agentId}: the protocol has no contact records`, 'agent-session updateContact', false);
  }

  counters(): Record<string, number> {
    const sum: Record<string, number> = { requests: 0, failures: 0, timeouts: 0, reconnects: 0, ignored: 0 };
    for (const c of this.clients.values()) for (const [k, v] of Object.entries(c.stats)) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }

  subscribe(sink: InboundSink): () => void {
    this.sinks.add(sink);
    return () => void this.sinks.delete(sink);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
