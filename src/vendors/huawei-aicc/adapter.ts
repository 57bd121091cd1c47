/**
 * Huawei AICC / CEC through the CC-Gateway as a VendorAdapter. A virtual agent is an ordinary
 * voice agent (workNo = `vendorUser`) with a softphone number (`number`):
 *   login    = sign in busy (status 3, so no call comes before the phone is up) -> the event loop
 *              (the heartbeat) -> the agent's phone registered with the platform's registrar
 *   ready    = out of wrap-up (cancelwork) or `sayfree`; notReady = `saybusy`
 *   wrap-up  = `work` for the call, then ready: exactly once per call through the durable outbox
 *   transfer = `voicecall/transfer` (skill queue, agent, IVR, access code or number); the platform
 *              releases our leg
 *   events   = the poll's events as the boundary's events (hold/mute reach the call)
 * A session the platform dropped (the heartbeat rule, a restart) is signed in again by the client;
 * the agent is then reported logged out so the lifecycle makes it idle again.
 */
import type { Logger } from 'pino';
import { OutboundRegistration } from '../../sip/registration.js';
import type { ProfileSip } from '../plugin.js';
import { VendorError, type InboundEvent, type InboundSink, type TransferTarget, type VendorAdapter, type VendorAgent, type VendorAgentState, type VendorCallIds } from '../types.js';
import { CcGatewayClient } from './client.js';
import { AgentEventLoops } from './events.js';
import type { HuaweiAiccConfig, HuaweiTransferTarget } from './settings.js';
import { CcGatewayError, validAgentId, type AgentEvent } from './wire.js';

/** How long close() waits for the registrar to confirm the phones' unregistrations. */
const UNREGISTER_WAIT_MS = 2000;

/** agentstatus codes (Agent Operation Interfaces, "Getting Agent Status"). */
const STATUS: Record<number, VendorAgentState> = { 3: 'not-ready', 4: 'ready', 5: 'wrap-up', 7: 'in-call' };
const DEVICE_BY_BOOK: Record<string, HuaweiTransferTarget['devicetype']> = { skill: 1, agent: 2, ivr: 3, accesscode: 4, 'access-code': 4, number: 5 };

interface AgentLink {
  agent: VendorAgent;
  workNo: string;
  phone?: OutboundRegistration;
  /** The platform's current call (from AgentEvent_Ringing), and its caller data. */
  call?: { callid: string; content: Record<string, unknown>; claimed: boolean };
  /** Waiting for AgentEvent_Ringing (the INVITE came first). */
  ringing: (() => void)[];
  /** Waiting for the phone's registration (login). */
  phoneUp: (() => void)[];
  /** The state our last command asked for: its event is our own confirmation. */
  expect?: VendorAgentState;
}


/** Wait until a function put on `waiters` is called (true) or `ms` pass (false, and it is taken off). */
function wakeOrTimeout(waiters: (() => void)[], ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(t);
      resolve(true);
    };
    const t = setTimeout(() => {
      const i = waiters.indexOf(wake);
      if (i >= 0) waiters.splice(i, 1);
      resolve(false);
    }, ms);
    waiters.push(wake);
  });
}

export class HuaweiAiccAdapter implements VendorAdapter {
  readonly name = 'huawei-aicc';
  private readonly client: CcGatewayClient;
  private readonly loops: AgentEventLoops;
  private readonly agents = new Map<string, AgentLink>();
  private readonly byWorkNo = new Map<string, AgentLink>();
  private readonly sinks = new Set<InboundSink>();
  private sipOf: (agentId: string) => ProfileSip | undefined = () => undefined;
  readonly stats = { events: 0, phoneFailures: 0 };

  constructor(
    private readonly cfg: HuaweiAiccConfig,
    private readonly log: Logger,
    /** Where REGISTER goes: the configured registrar, or the sandbox's once it runs. */
    private readonly registrar: () => string,
  ) {
    this.client = new CcGatewayClient({ baseUrl: cfg.baseUrl, timeoutMs: cfg.timeoutMs, retries: cfg.retries, pollHoldMs: cfg.pollHoldMs, log });
    this.client.onSignedInAgain = (workNo) => {
      const l = this.byWorkNo.get(workNo);
      // Signed in again busy: the lifecycle makes it idle again (login is idempotent).
      if (l) this.emit({ type: 'agent-state', agentId: l.agent.id, state: 'logged-out', reason: 'the platform had signed the agent out; signed in again' });
    };
    this.loops = new AgentEventLoops(this.client, (ev) => this.platformEvent(ev), log, undefined, (workNo, ev) => this.raw(workNo, ev));
  }

  /** The SIP endpoint each agent's phone registers from (its profile's). */
  attachSip(sipOf: (agentId: string) => ProfileSip | undefined): void {
    this.sipOf = sipOf;
  }

  private emit(ev: InboundEvent): void {
    for (const sink of this.sinks) sink(ev);
  }

  private link(agentId: string, op: string): AgentLink {
    const l = this.agents.get(agentId);
    if (!l) throw new VendorError(`huawei-aicc ${op}: agent ${agentId} is unknown (log it in first)`, `huawei-aicc ${op}`, false);
    return l;
  }

  /** A platform answer as a VendorError: a retcode is the platform's refusal, other failures may pass. */
  private async run<T>(agentId: string, op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof VendorError) throw e;
      if (e instanceof CcGatewayError) {
        const transient = e.retcode === 'unreachable' || e.retcode.startsWith('http-5');
        throw new VendorError(`huawei-aicc ${op} for agent ${agentId}: ${e.message}`, `huawei-aicc ${op}`, transient, e.retcode);
      }
      throw new VendorError(`huawei-aicc ${op} for agent ${agentId}: ${(e as Error).message}`, `huawei-aicc ${op}`, true);
    }
  }

  /** Events of the poll (by workNo) to the boundary (by our agent id), keeping the current call. */
  private platformEvent(ev: InboundEvent): void {
    const l = this.byWorkNo.get(ev.agentId);
    if (!l) return;
    this.stats.events++;
    const mapped = { ...ev, agentId: l.agent.id } as InboundEvent;
    if (mapped.type === 'agent-state') {
      const ours = l.expect === mapped.state;
      if (ours) delete l.expect;
      this.emit(ours ? { ...mapped, ours } : mapped);
      return;
    }
    const callid = mapped.ids?.['callid'];
    if (callid !== undefined && callid !== l.call?.callid) {
      // Not the agent's current call: a late event of one already over.
      this.log.debug({ agent: l.agent.id, callid, event: mapped.type }, 'huawei-aicc: event for an earlier call ignored');
      return;
    }
    if (mapped.type === 'call-released') delete l.call;
    this.emit(mapped);
  }

  /** Ringing carries the call id the INVITE does not: kept for callIds() and the screen pop. */
  private raw(workNo: string, ev: AgentEvent): void {
    const l = this.byWorkNo.get(workNo);
    if (!l || ev.eventType !== 'AgentEvent_Ringing') return;
    const callid = ev.content['callid'];
    if (typeof callid !== 'string') return;
    l.call = { callid, content: ev.content, claimed: false };
    for (const wake of l.ringing.splice(0)) wake();
  }

  async login(agent: VendorAgent): Promise<void> {
    const workNo = agent.user;
    if (!validAgentId(workNo)) throw new VendorError(`huawei-aicc login: agent ${agent.id}: vendorUser '${workNo}' is not an agent id (101-999999)`, 'huawei-aicc login', false);
    let l = this.agents.get(agent.id);
    if (!l) {
      l = { agent, workNo, ringing: [], phoneUp: [] };
      this.agents.set(agent.id, l);
      this.byWorkNo.set(workNo, l);
    }
    const link = l;
    await this.run(agent.id, 'login', async () => {
      let signedIn = false;
      if (this.client.signedIn(workNo)) {
        // Idempotent: a live session is kept (its Guid still answers).
        signedIn = await this.client.agentStatus(workNo).then(() => true, () => false);
      }
      if (!signedIn) {
        link.expect = 'not-ready';
        await this.client.signIn(workNo, { password: agent.password, phonenum: agent.number, autoanswer: this.cfg.autoAnswer, autoenteridle: this.cfg.autoEnterIdle, status: 3 });
      }
      this.loops.start(workNo);
    });
    await this.registerPhone(link);
  }

  /** The agent's phone bound at the platform's registrar (RFC 3261 §10.2), before the agent is made idle. */
  private async registerPhone(l: AgentLink): Promise<void> {
    const sip = this.sipOf(l.agent.id);
    if (!sip) throw new VendorError(`huawei-aicc login: the SIP side of agent ${l.agent.id} is not up yet`, 'huawei-aicc register', true);
    if (!l.phone) {
      const target = this.registrar();
      const i = target.lastIndexOf(':');
      const host = target.slice(0, i);
      const domain = this.cfg.sipDomain || host;
      l.phone = new OutboundRegistration(sip.endpoint, {
        registrar: { transport: 'udp', address: host, port: Number(target.slice(i + 1)) },
        domain: `sip:${domain}`,
        aor: `<sip:${l.agent.number}@${domain}>`,
        contact: `<sip:${l.agent.number}@${sip.host}:${sip.port}>`,
        username: l.agent.number,
        password: this.cfg.phonePassword,
        expires: this.cfg.registerExpires,
        log: this.log.child({ agent: l.agent.id, phone: l.agent.number }),
      });
      const agentId = l.agent.id;
      l.phone.onState = (s) => {
        if (s.state === 'registered') for (const wake of l.phoneUp.splice(0)) wake();
        if (s.state !== 'retrying') return;
        this.stats.phoneFailures++;
        // The platform would ring a phone that cannot answer: busy there, out of service here; the
        // lifecycle signs it in again (which waits for the phone) and makes it idle.
        this.log.warn({ agent: agentId, phone: l.agent.number, err: s.lastError }, 'huawei-aicc: the agent phone lost its registration; agent set busy');
        if (this.client.signedIn(l.workNo)) void this.client.sayBusy(l.workNo).catch(() => undefined);
        this.emit({ type: 'agent-state', agentId, state: 'unknown', reason: `phone ${l.agent.number} not registered: ${s.lastError ?? 'registration failed'}` });
      };
      l.phone.start();
    }
    const phone = l.phone;
    if (phone.state.state === 'registered') return;
    if (!(await wakeOrTimeout(l.phoneUp, this.cfg.timeoutMs * 2))) throw new VendorError(`huawei-aicc login: phone ${l.agent.number} of agent ${l.agent.id} is not registered${phone.state.lastError ? `: ${phone.state.lastError}` : ''}`, 'huawei-aicc register', true);
  }

  async ready(agentId: string): Promise<void> {
    const l = this.link(agentId, 'ready');
    await this.run(agentId, 'ready', async () => {
      const s = await this.client.agentStatus(l.workNo);
      if (s === 4) return;
      // Still talking at the platform (its release is on the way): the outbox tries again.
      if (s === 7) throw new VendorError(`huawei-aicc ready for agent ${agentId}: the platform still has the agent talking`, 'huawei-aicc ready', true, 'talking');
      l.expect = 'ready';
      if (s === 5) await this.client.cancelWork(l.workNo);
      else await this.client.sayFree(l.workNo);
    });
  }

  async notReady(agentId: string): Promise<void> {
    const l = this.link(agentId, 'notReady');
    await this.run(agentId, 'notReady', async () => {
      if ((await this.client.agentStatus(l.workNo)) === 3) return;
      l.expect = 'not-ready';
      await this.client.sayBusy(l.workNo);
    });
  }

  async logout(agentId: string): Promise<void> {
    const l = this.agents.get(agentId);
    if (!l) return;
    this.loops.stop(l.workNo);
    await l.phone?.stop();
    delete l.phone;
    await this.run(agentId, 'logout', () => this.client.logout(l.workNo));
  }

  async status(agentId: string): Promise<{ state: VendorAgentState; call?: VendorCallIds }> {
    const l = this.agents.get(agentId);
    if (!l || !this.client.signedIn(l.workNo)) return { state: 'logged-out' };
    const s = await this.run(agentId, 'status', () => this.client.agentStatus(l.workNo));
    return { state: STATUS[s] ?? 'unknown', ...(l.call ? { call: { callid: l.call.callid } } : {}) };
  }

  /** The INVITE carries no platform ids: the call id comes with AgentEvent_Ringing, waited for briefly. */
  async callIds(agentId: string, hint: VendorCallIds): Promise<VendorCallIds> {
    const l = this.agents.get(agentId);
    if (!l) return hint;
    // A call id already given to an earlier INVITE is that call's (its release may still be on the way).
    if ((!l.call || l.call.claimed) && this.cfg.ringingWaitMs > 0) {
      await wakeOrTimeout(l.ringing, this.cfg.ringingWaitMs);
    }
    if (!l.call || l.call.claimed) return hint;
    l.call.claimed = true;
    return { ...hint, callid: l.call.callid };
  }

  async screenPop(agentId: string): Promise<Record<string, string>> {
    const c = this.agents.get(agentId)?.call?.content ?? {};
    const pop: Record<string, string> = {};
    for (const k of ['caller', 'called', 'skillid']) if (typeof c[k] === 'string' || typeof c[k] === 'number') pop[k] = String(c[k]);
    return pop;
  }

  /** A named target (transferTargets), a number, or `phonebook` = skill|agent|ivr|accesscode with `contact` = its address. */
  async transfer(agentId: string, _ids: VendorCallIds, target: TransferTarget & { number?: string }): Promise<void> {
    const l = this.link(agentId, 'transfer');
    const named = target.contact ? this.cfg.transferTargets[target.contact] : undefined;
    const book = target.phonebook?.toLowerCase();
    const t: HuaweiTransferTarget | undefined = named
      ?? (book && DEVICE_BY_BOOK[book] && target.contact ? { devicetype: DEVICE_BY_BOOK[book]!, address: target.contact, mode: 0 } : undefined)
      ?? (target.number ? { devicetype: 5, address: target.number.replace(/^tel:/, ''), mode: 0 } : undefined);
    if (!t) {
      const names = Object.keys(this.cfg.transferTargets);
      throw new VendorError(`huawei-aicc transfer for agent ${agentId}: no target '${target.contact ?? ''}'${book ? ` in '${book}'` : ''}; named targets: ${names.join(', ') || 'none'} (or phonebook skill|agent|ivr|accesscode|number with contact = the address)`, 'huawei-aicc transfer', false);
    }
    await this.run(agentId, 'transfer', () => this.client.transfer(l.workNo, t!));
  }

  /**
   * The call's wrap-up at the platform: the agent in the work state for it. The CC-Gateway's work
   * interface carries no outcome (and call-associated data can only be set during the call), so
   * the term code stays in the gateway's call record and logs.
   */
  async setTermCode(agentId: string, ids: VendorCallIds, termCode: string): Promise<void> {
    const l = this.link(agentId, 'work');
    await this.run(agentId, 'work', async () => {
      await this.client.work(l.workNo);
      this.log.info({ agent: agentId, callid: ids['callid'], termCode }, 'huawei-aicc: wrap-up (work) for the call');
    });
  }

  async updateContact(agentId: string): Promise<void> {
    throw new VendorError(`huawei-aicc updateContact for agent ${agentId}: the CC-Gateway has no contact records`, 'huawei-aicc updateContact', false);
  }

  counters(): Record<string, number> {
    return { ...this.client.stats, ...this.loops.stats, events: this.stats.events, phoneFailures: this.stats.phoneFailures };
  }

  subscribe(sink: InboundSink): () => void {
    this.sinks.add(sink);
    return () => void this.sinks.delete(sink);
  }

  /**
   * Stop the polls and remove the phones' bindings (REGISTER Expires: 0, RFC 3261 §10.2.2) so the
   * platform stops ringing a gateway that is gone. Bounded: a registrar that does not answer must
   * not hold the shutdown for Timer F (32 s); the binding then runs out by itself.
   */
  async close(): Promise<void> {
    this.loops.stopAll();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => (timer = setTimeout(r, UNREGISTER_WAIT_MS)));
    await Promise.race([Promise.all([...this.agents.values()].map((l) => l.phone?.stop())), bound]);
    clearTimeout(timer);
  }
}
