/**
 * The strict agent-session simulator's state and rules: sessions bound to agents, one telephony
 * channel each (created INACTIVE), channel state and agent status changed only by the commands
 * and calls the protocol knows, each refused with a failure naming the state when it does not
 * apply. Calls carry the after-call-work record the gateway must leave exactly once per call.
 */
import { ACW, type AddressBook, type AgentStatus, type ChannelInfo, type ChannelState, type ReasonCode, type WireFailure } from '../wire.js';

export interface SimAgent {
  user: string;
  password: string;
  /** The number the platform dials to reach the agent's phone (the virtual agent). */
  number: string;
}

export interface SimChannel {
  id: string;
  name: string;
  type: 'TELEPHONY';
  state: ChannelState;
  status: AgentStatus;
  lastReasonCode: string;
  lastReasonName: string;
  queue?: string;
}

export interface SimSession {
  id: string;
  agent: string;
  channel?: SimChannel;
  /** The call the agent has (or last had), by contact id. */
  currentCall?: string;
  lastCall?: string;
}

export interface SimCall {
  contactId: string;
  agent: string;
  number: string;
  caller: string;
  startedAt: number;
  endedAt?: number;
  endedBy?: 'customer' | 'agent';
  /** After-call-work dispositions the agent left for this call (the gateway must leave one). */
  acw: { reasondesc: string; at: number }[];
  /** When the agent was Ready again after this call. */
  readyAt?: number;
  /** Where the agent's leg sent the caller (REFER), if it did. */
  transferredTo?: string;
}

/** A failure the protocol answers with. */
export class SimFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  get failure(): WireFailure {
    return { code: this.code, message: this.message };
  }
}

export type SimEvent = { session: string; target: string; name: string; data: Record<string, unknown> };

export const DEFAULT_REASON_CODES: ReasonCode[] = [
  { reasonCodeId: '1', reasonCodeCode: 'break', selectable: true, labels: [{ language: 'en', country: 'US', name: 'Break', description: 'Short break' }] },
  { reasonCodeId: '2', reasonCodeCode: 'keep-alive', selectable: true, labels: [{ language: 'en', country: 'US', name: 'Keep alive', description: 'Session keep-alive' }] },
  { reasonCodeId: '3', reasonCodeCode: 'closed', selectable: true, labels: [{ language: 'en', country: 'US', name: 'Closed', description: 'Outside open hours' }] },
  { reasonCodeId: '4', reasonCodeCode: 'system', selectable: false, labels: [{ language: 'en', country: 'US', name: 'System', description: 'Set by the platform only' }] },
];

export class SimState {
  readonly sessions = new Map<string, SimSession>();
  readonly calls = new Map<string, SimCall>();
  /** Every event sent, in order (for the tests' ordering checks). */
  readonly events: SimEvent[] = [];
  private seq = 0;

  constructor(
    readonly agents: SimAgent[],
    readonly reasonCodes: ReasonCode[],
    readonly addressBook: AddressBook[],
    readonly now: () => number,
  ) {}

  private emit: (e: SimEvent) => void = () => undefined;

  /** Where events go (the server's sockets). */
  setEmitter(fn: (e: SimEvent) => void): void {
    this.emit = fn;
  }

  agent(userOrNumber: string): SimAgent | undefined {
    const digits = userOrNumber.replace(/\D/g, '');
    return this.agents.find((a) => a.user === userOrNumber || (digits !== '' && a.number.replace(/\D/g, '') === digits));
  }

  sessionOf(agent: string): SimSession | undefined {
    for (const s of this.sessions.values()) if (s.agent === agent) return s;
    return undefined;
  }

  /** Bind to the agent's session (an existing one is kept: the platform knows the agent's state). */
  bind(agent: string): SimSession {
    const existing = this.sessionOf(agent);
    if (existing) return existing;
    const s: SimSession = { id: `S${(++this.seq).toString(36).toUpperCase()}${Date.now().toString(36).slice(-4).toUpperCase()}`, agent };
    this.sessions.set(s.id, s);
    return s;
  }

  info(c: SimChannel): ChannelInfo {
    return { state: c.state, agentStatus: { status: c.status, lastReasonCode: c.lastReasonCode, lastReasonName: c.lastReasonName } };
  }

  /** What a client binding to the session is told first (§ session.initialized: channels before it). */
  replay(s: SimSession): void {
    const c = s.channel;
    if (c) {
      this.event(s, `${s.id}.${c.id}`, 'channel.created', { channel: { id: c.id, name: c.name, type: c.type, modelType: 'incontact' } });
      this.event(s, `${s.id}.${c.id}`, 'channel.infochanged', { ...this.info(c) });
      this.event(s, `${s.id}.${c.id}`, 'channel.initialized', {});
    }
    this.event(s, s.id, 'session.initialized', {});
  }

  private event(s: SimSession, target: string, name: string, data: Record<string, unknown>): void {
    const e = { session: s.id, target, name, data };
    this.events.push(e);
    if (this.events.length > 20_000) this.events.splice(0, 10_000);
    this.emit(e);
  }

  private changed(s: SimSession, c: SimChannel): void {
    this.event(s, `${s.id}.${c.id}`, 'channel.infochanged', { ...this.info(c) });
    this.event(s, `${s.id}.${c.id}`, 'state.updated', { state: c.state, status: c.status });
  }

  channel(s: SimSession, target: string): SimChannel {
    const parts = target.split('.');
    const c = s.channel;
    if (parts[0] !== s.id) throw new SimFailure('InvalidTarget', `target ${target} is not in session ${s.id}`);
    if (!c || parts[parts.length - 1] !== c.id || parts.length < 2) throw new SimFailure('UnknownChannel', `no channel ${parts.slice(1).join('.') || '(none)'} in session ${s.id}`);
    return c;
  }

  addChannel(s: SimSession, data: Record<string, unknown>): Record<string, unknown> {
    const type = String(data['type'] ?? 'TELEPHONY').toUpperCase();
    if (type !== 'TELEPHONY') throw new SimFailure('UnsupportedChannelType', `channel type ${type} is not offered to this agent (TELEPHONY only)`);
    if (s.channel) throw new SimFailure('ChannelExists', `session ${s.id} already has telephony channel ${s.channel.id}`);
    const c: SimChannel = { id: 'tel1', name: 'Telephony', type: 'TELEPHONY', state: 'INACTIVE', status: 'not_ready', lastReasonCode: '', lastReasonName: '' };
    s.channel = c;
    const target = `${s.id}.${c.id}`;
    this.event(s, target, 'channel.created', { channel: { id: c.id, name: c.name, type: c.type, modelType: 'incontact' } });
    // The documented quirk: the first infochanged may come before initialized.
    this.event(s, target, 'channel.infochanged', { ...this.info(c) });
    this.event(s, target, 'channel.initialized', {});
    return { channel: { id: c.id, name: c.name, type: c.type } };
  }

  activate(s: SimSession, c: SimChannel, data: Record<string, unknown>): void {
    if (c.state !== 'INACTIVE') throw new SimFailure('InvalidState', `channel ${c.id} is ${c.state}; activate needs INACTIVE`);
    const opts = (data['channeloptions'] ?? {}) as Record<string, unknown>;
    if (typeof opts['queue'] === 'string') c.queue = opts['queue'];
    c.state = 'ACTIVE';
    c.status = 'not_ready';
    c.lastReasonCode = '';
    c.lastReasonName = '';
    this.changed(s, c);
  }

  deactivate(s: SimSession, c: SimChannel): void {
    if (c.state !== 'ACTIVE') throw new SimFailure('InvalidState', `channel ${c.id} is ${c.state}; deactivate needs ACTIVE`);
    if (c.status.startsWith('busy')) throw new SimFailure('InvalidState', `agent is ${c.status} on channel ${c.id}: end the call first`);
    c.state = 'INACTIVE';
    c.status = 'not_ready';
    this.changed(s, c);
  }

  ready(s: SimSession, c: SimChannel): void {
    if (c.state !== 'ACTIVE') throw new SimFailure('InvalidState', `channel ${c.id} is ${c.state}; ready needs ACTIVE`);
    if (c.status.startsWith('busy')) {
      c.status = 'busy_ready';
      return this.changed(s, c);
    }
    const last = s.lastCall ? this.calls.get(s.lastCall) : undefined;
    if (c.status === 'after_call_work' && last && last.acw.length === 0) {
      throw new SimFailure('DispositionRequired', `call ${last.contactId} has no after-call work disposition yet (notready acw first)`);
    }
    c.status = 'ready';
    c.lastReasonCode = '';
    c.lastReasonName = '';
    if (last && last.endedAt !== undefined && last.readyAt === undefined) last.readyAt = this.now();
    this.changed(s, c);
  }

  notReady(s: SimSession, c: SimChannel, data: Record<string, unknown>): void {
    if (c.state !== 'ACTIVE') throw new SimFailure('InvalidState', `channel ${c.id} is ${c.state}; notready needs ACTIVE`);
    const code = data['reasoncode'];
    if (typeof code !== 'string' || code === '') throw new SimFailure('MissingReasonCode', "notready needs data.reasoncode ('acw' or a listed reason code)");
    const desc = typeof data['reasondesc'] === 'string' ? data['reasondesc'] : '';
    if (code === ACW) return this.afterCallWork(s, c, desc);
    const rc = this.reasonCodes.find((r) => r.reasonCodeCode === code || r.reasonCodeId === code);
    if (!rc) throw new SimFailure('InvalidReasonCode', `reason code '${code}' is not in the agent's not-ready reasons (${this.reasonCodes.filter((r) => r.selectable).map((r) => r.reasonCodeCode).join(', ')})`);
    if (!rc.selectable) throw new SimFailure('InvalidReasonCode', `reason code '${code}' is not selectable by an agent`);
    c.status = c.status.startsWith('busy') ? 'busy_not_ready' : 'not_ready';
    c.lastReasonCode = rc.reasonCodeCode;
    c.lastReasonName = rc.labels[0]?.name ?? rc.reasonCodeCode;
    this.changed(s, c);
  }

  /** `notready acw`: the disposition of the current or last call, once per call. */
  private afterCallWork(s: SimSession, c: SimChannel, desc: string): void {
    const id = s.currentCall ?? s.lastCall;
    const call = id ? this.calls.get(id) : undefined;
    if (!call || (call.endedAt !== undefined && call.readyAt !== undefined)) throw new SimFailure('NoCallToWrapUp', 'after-call work needs a call to wrap up (the agent has none)');
    if (call.acw.length > 0) throw new SimFailure('AcwAlreadySet', `call ${call.contactId} already has its after-call work (${call.acw[0]!.reasondesc})`);
    call.acw.push({ reasondesc: desc, at: this.now() });
    c.status = c.status.startsWith('busy') ? 'busy_after_call_work' : 'after_call_work';
    c.lastReasonCode = ACW;
    c.lastReasonName = desc;
    this.changed(s, c);
  }

  /** The platform routes a customer to a ready agent. */
  startCall(agentRef: string, caller: string): SimCall {
    const a = this.agent(agentRef);
    if (!a) throw new SimFailure('UnknownAgent', `no agent ${agentRef}`);
    const s = this.sessionOf(a.user);
    const c = s?.channel;
    if (!s || !c || c.state !== 'ACTIVE' || c.status !== 'ready') throw new SimFailure('AgentNotReady', `agent ${a.user} is not ready (${c ? `${c.state}/${c.status}` : 'no telephony channel'})`);
    const call: SimCall = { contactId: String(600_000_000 + ++this.seq), agent: a.user, number: a.number, caller, startedAt: this.now(), acw: [] };
    this.calls.set(call.contactId, call);
    if (this.calls.size > 20_000) this.calls.delete(this.calls.keys().next().value!);
    s.currentCall = call.contactId;
    c.status = 'busy';
    this.changed(s, c);
    return call;
  }

  /** The customer or the agent's leg hung up. Idempotent. */
  endCall(contactId: string, by: 'customer' | 'agent'): SimCall {
    const call = this.calls.get(contactId);
    if (!call) throw new SimFailure('UnknownContact', `no call ${contactId}`);
    if (call.endedAt !== undefined) return call;
    call.endedAt = this.now();
    call.endedBy = by;
    const s = this.sessionOf(call.agent);
    const c = s?.channel;
    if (s && s.currentCall === contactId) {
      s.currentCall = undefined;
      s.lastCall = contactId;
    }
    if (s && c && c.status.startsWith('busy')) {
      // The platform puts the agent in after-call work unless it asked for another state during the call.
      c.status = c.status === 'busy' ? 'after_call_work' : ((c.status.slice(5) as AgentStatus) ?? 'after_call_work');
      if (c.status === 'ready' && call.acw.length === 0) c.status = 'after_call_work';
      if (c.status === 'ready') call.readyAt = this.now();
      this.changed(s, c);
    }
    return call;
  }

  /** A supervisor (or the platform) logs the agent out, even on a call: its call is released. */
  forceLogout(agent: string): SimSession {
    const s = this.sessionOf(agent);
    if (!s) throw new SimFailure('UnknownSession', `agent ${agent} has no session`);
    const open = s.currentCall;
    // The channel goes first (the client sees it disposed while busy), then the call is released.
    this.logout(s, true);
    if (open) this.endCall(open, 'agent');
    return s;
  }

  logout(s: SimSession, forced = false): void {
    const c = s.channel;
    if (!forced && c && c.status.startsWith('busy')) throw new SimFailure('InvalidState', `agent is ${c.status}: end the call before logging out`);
    if (c) {
      this.event(s, `${s.id}.${c.id}`, 'channel.disposed', {});
      delete s.channel;
    }
    this.sessions.delete(s.id);
  }

  /** Ready-state counts for the address book's realtime properties. */
  addressBooks(realtime: boolean): AddressBook[] {
    const books = structuredClone(this.addressBook);
    if (!realtime) return books;
    const ready = [...this.sessions.values()].filter((s) => s.channel?.status === 'ready').length;
    for (const b of books) for (const e of b.entries) if (e.type === 'skill') Object.assign(e.properties, { numAvailable: ready, numUnavailable: this.sessions.size - ready, ewt: '0' });
    return books;
  }
}

