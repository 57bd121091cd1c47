/**
 * The simulator's voice side: a customer reaches a called route, which names a voice skill queue;
 * the longest-idle signed-in agent of that queue whose phone is registered is offered the call
 * (AgentEvent_Ringing), and the platform rings that phone (the placer sends the INVITE to the
 * registered Contact). The phone's answer is AgentEvent_Talking; a release from either side is
 * AgentEvent_Customer_Release or AgentEvent_Call_Release, then the agent is in wrap-up (work)
 * until it leaves it, or until the skill's wrap-up time (default 5 s) with auto-enter-idle.
 * Hold and mute, by the agent's interfaces or by the platform/phone, are events with the call id.
 * Every call keeps a record the tests and the sandbox's admin API read: how it ended, and each
 * wrap-up request (`work`) and return to idle that followed it.
 */
import { RET, SimRefusal, type CcGatewayState, type StatusOp } from './state.js';
import type { PhoneRegistrar } from './phones.js';

export interface SimSkill {
  id: string;
  name: string;
  /** Wrap-up ("arranging") time, s (the skill queue setting; default 5, 0-3600). */
  wrapUpSeconds?: number;
}

export type SimCallState = 'ringing' | 'talking' | 'held' | 'released';

export interface SimVoiceCall {
  callid: string;
  agentId: string;
  skill: string;
  caller: string;
  phonenum: string;
  contact: string;
  state: SimCallState;
  muted: boolean;
  releasedBy?: 'customer' | 'agent' | 'transfer' | 'not-answered';
  transferredTo?: { devicetype: number; address: string; mode: number };
  startedAt: number;
  answeredAt?: number;
  releasedAt?: number;
  /** `work` requests for this call after its release (the wrap-up: exactly one expected). */
  workRequests: number;
  /** When the first of them came. */
  workAt?: number;
  /** When the agent left wrap-up for idle after this call (cancelwork, sayfree or the wrap-up time). */
  idleAt?: number;
}

export interface CallHooks {
  /** Ring the agent's phone: place the INVITE to its registered Contact. */
  ring(call: SimVoiceCall): void;
  /** The platform releases the agent's leg (customer hung up, transfer, release interface). */
  hangup(call: SimVoiceCall): void;
}

/** Device types of voicecall/transfer: 1 skill queue, 2 agent, 3 IVR, 4 access code, 5 external number. */
const DEVICE_TYPES = new Set([1, 2, 3, 4, 5]);
const MAX_RECORDS = 5000;

export class CcCalls {
  readonly calls = new Map<string, SimVoiceCall>();
  private readonly current = new Map<string, SimVoiceCall>();
  /** The last call each agent had: wrap-up requests and the return to idle are recorded on it. */
  private readonly last = new Map<string, SimVoiceCall>();
  private seq = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly state: CcGatewayState,
    private readonly phones: PhoneRegistrar,
    private readonly skills: SimSkill[],
    private readonly hooks: CallHooks,
  ) {
    state.onStatusOp = (id, op) => this.statusOp(id, op);
  }

  private statusOp(agentId: string, op: StatusOp): void {
    const c = this.last.get(agentId);
    if (!c || c.state !== 'released') return;
    if (op === 'work' && c.idleAt === undefined) {
      c.workRequests++;
      c.workAt ??= this.state.now();
    }
    if ((op === 'cancelwork' || op === 'sayfree') && c.idleAt === undefined) c.idleAt = this.state.now();
  }

  /** A customer call to a skill queue (or straight to one agent): offered to the longest-idle agent. */
  route(o: { skill?: string; agent?: string; caller?: string }): SimVoiceCall {
    const skill = o.skill ?? this.skills[0]?.id;
    if (o.skill !== undefined && !this.skills.some((s) => s.id === o.skill)) throw new SimRefusal(RET.badParameter, `no skill queue ${o.skill}`);
    const idle = this.state.idleAgents(o.agent ? undefined : skill).filter((a) => (!o.agent || a.agentId === o.agent) && this.phones.lookup(a.phonenum));
    const pick = idle[0];
    if (!pick) throw new SimRefusal(RET.wrongState, o.agent ? `agent ${o.agent} is not idle with a registered phone` : `no idle agent with a registered phone in skill queue ${skill ?? '(none)'}`);
    this.state.occupy(pick.agentId);
    const now = this.state.now();
    const call: SimVoiceCall = {
      callid: `${Math.floor(now / 1000)}-${++this.seq}`,
      agentId: pick.agentId,
      skill: skill ?? '',
      caller: o.caller ?? '+13125550100',
      phonenum: pick.phonenum,
      contact: this.phones.lookup(pick.phonenum)!.contact,
      state: 'ringing',
      muted: false,
      startedAt: now,
      workRequests: 0,
    };
    this.keep(call);
    this.current.set(call.agentId, call);
    this.last.set(call.agentId, call);
    this.state.event(call.agentId, 'AgentEvent_Ringing', { callid: call.callid, caller: call.caller, called: call.phonenum, skillid: call.skill, feature: 0 });
    this.hooks.ring(call);
    return call;
  }

  private keep(call: SimVoiceCall): void {
    this.calls.set(call.callid, call);
    if (this.calls.size > MAX_RECORDS) {
      for (const [id, c] of this.calls) {
        if (c.state !== 'released') continue;
        this.calls.delete(id);
        if (this.calls.size <= MAX_RECORDS) break;
      }
    }
  }

  /** The agent's phone answered the INVITE. */
  legAnswered(callid: string): void {
    const c = this.calls.get(callid);
    if (!c || c.state !== 'ringing') return;
    c.state = 'talking';
    c.answeredAt = this.state.now();
    this.state.event(c.agentId, 'AgentEvent_Talking', { callid: c.callid, caller: c.caller });
  }

  /** The agent's leg ended: the phone hung up (BYE), or the INVITE failed. */
  legEnded(callid: string, by: 'phone' | 'customer' | 'failed'): void {
    const c = this.calls.get(callid);
    if (!c || c.state === 'released') return;
    if (by === 'failed') return this.release(c, 'not-answered', 'AgentEvent_Call_Release');
    this.release(c, by === 'customer' ? 'customer' : 'agent', by === 'customer' ? 'AgentEvent_Customer_Release' : 'AgentEvent_Call_Release');
  }

  /** The customer hangs up (admin API): the platform releases the agent's leg. */
  customerHangup(callid: string): SimVoiceCall {
    const c = this.calls.get(callid);
    if (!c) throw new SimRefusal(RET.badParameter, `no call ${callid}`);
    if (c.state !== 'released') {
      this.release(c, 'customer', 'AgentEvent_Customer_Release');
      this.hooks.hangup(c);
    }
    return c;
  }

  private release(c: SimVoiceCall, by: NonNullable<SimVoiceCall['releasedBy']>, eventType: string): void {
    c.state = 'released';
    c.releasedBy = by;
    c.releasedAt = this.state.now();
    this.current.delete(c.agentId);
    this.state.event(c.agentId, eventType, { callid: c.callid });
    // Rung and not answered (refused, no answer): the platform stops offering calls to the agent
    // (busy) instead of putting it in wrap-up for a call it never had.
    if (by === 'not-answered') return this.state.notAnswered(c.agentId);
    if (!this.state.callReleased(c.agentId)) return;
    const secs = this.skills.find((s) => s.id === c.skill)?.wrapUpSeconds ?? 5;
    const t = setTimeout(() => {
      this.timers.delete(t);
      const before = this.state.statusOf(c.agentId);
      this.state.wrapUpTimeOver(c.agentId);
      if (before === 'work' && this.state.statusOf(c.agentId) === 'idle' && this.last.get(c.agentId) === c) c.idleAt ??= this.state.now();
    }, secs * 1000);
    t.unref();
    this.timers.add(t);
  }

  /** The agent's current call, checked against the callid a request names (when it names one). */
  private callOf(agentId: string, guid: string | undefined, op: string, callid?: string | null): SimVoiceCall {
    this.state.check(agentId, guid);
    const c = this.current.get(agentId);
    if (!c) throw new SimRefusal(RET.wrongState, `${op}: agent ${agentId} has no call`);
    if (callid && callid !== c.callid) throw new SimRefusal(RET.badParameter, `${op}: call ${callid} is not agent ${agentId}'s call`);
    return c;
  }

  /** PUT voicecall/{id}/answer: only after AgentEvent_Ringing (the phone then answers). */
  answer(agentId: string, guid: string | undefined, callid?: string | null): void {
    const c = this.callOf(agentId, guid, 'answer', callid);
    if (c.state !== 'ringing') throw new SimRefusal(RET.wrongState, `answer: call ${c.callid} is ${c.state}`);
  }

  /** POST voicecall/{id}/hold: the agent holds its talking call (AgentEvent_Hold, content = the call id). */
  hold(agentId: string, guid: string | undefined): void {
    const c = this.callOf(agentId, guid, 'hold');
    if (c.state !== 'talking') throw new SimRefusal(RET.wrongState, `hold: call ${c.callid} is ${c.state}`);
    c.state = 'held';
    this.state.event(agentId, 'AgentEvent_Hold', c.callid);
  }

  /** POST voicecall/{id}/gethold?callid=: the held call back (AgentEvent_Talking). */
  getHold(agentId: string, guid: string | undefined, callid: string | null): void {
    if (!callid) throw new SimRefusal(RET.badParameter, 'gethold: callid is required');
    const c = this.callOf(agentId, guid, 'gethold', callid);
    if (c.state !== 'held') throw new SimRefusal(RET.wrongState, `gethold: call ${c.callid} is not held`);
    c.state = 'talking';
    this.state.event(agentId, 'AgentEvent_Talking', { callid: c.callid, caller: c.caller });
  }

  /** beginmute / endmute: the agent's voice to the customer off or on again. */
  mute(agentId: string, guid: string | undefined, on: boolean): void {
    const c = this.callOf(agentId, guid, on ? 'beginmute' : 'endmute');
    if (c.state !== 'talking') throw new SimRefusal(RET.wrongState, `${on ? 'beginmute' : 'endmute'}: call ${c.callid} is ${c.state}`);
    if (c.muted === on) throw new SimRefusal(RET.wrongState, `call ${c.callid} is ${on ? 'already' : 'not'} muted`);
    c.muted = on;
  }

  /** Hold or mute done at the platform or on the phone (admin API): the phone-linkage events. */
  linkage(callid: string, what: 'hold' | 'unhold' | 'mute' | 'unmute'): SimVoiceCall {
    const c = this.calls.get(callid);
    if (!c || c.state === 'released' || c.state === 'ringing') throw new SimRefusal(RET.wrongState, `call ${callid} is not in conversation`);
    if (what === 'hold' || what === 'unhold') c.state = what === 'hold' ? 'held' : 'talking';
    else c.muted = what === 'mute';
    const type = { hold: 'AgentEvent_linkagePhoneHold', unhold: 'AgentEvent_linkagePhoneUnHold', mute: 'AgentEvent_linkagePhoneMute', unmute: 'AgentEvent_linkagePhoneUnMute' }[what];
    this.state.event(c.agentId, type, { callId: c.callid });
    return c;
  }

  /** POST voicecall/{id}/transfer {devicetype, address, mode}: the customer leaves for the target; our leg is released. */
  transfer(agentId: string, guid: string | undefined, body: unknown): void {
    const c = this.callOf(agentId, guid, 'transfer');
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const devicetype = Number(b.devicetype);
    const address = typeof b.address === 'string' ? b.address : '';
    const mode = b.mode === undefined ? 0 : Number(b.mode);
    if (!DEVICE_TYPES.has(devicetype)) throw new SimRefusal(RET.badParameter, 'transfer: devicetype must be 1 (skill), 2 (agent), 3 (IVR), 4 (access code) or 5 (external number)');
    if (!address || address.length > 24) throw new SimRefusal(RET.badParameter, 'transfer: address is required (at most 24 characters)');
    if (!Number.isInteger(mode) || mode < 0 || mode > 4) throw new SimRefusal(RET.badParameter, 'transfer: mode must be 0-4');
    if (devicetype === 1 && !this.skills.some((s) => s.id === address)) throw new SimRefusal(RET.badParameter, `transfer: no skill queue ${address}`);
    if (devicetype === 5 && !/^\+?[0-9]{3,24}$/.test(address)) throw new SimRefusal(RET.badParameter, `transfer: ${address} is not a phone number`);
    if (c.state !== 'talking') throw new SimRefusal(RET.wrongState, `transfer: call ${c.callid} is ${c.state}`);
    c.transferredTo = { devicetype, address, mode };
    this.release(c, 'transfer', 'AgentEvent_Call_Release');
    this.hooks.hangup(c);
  }

  /** DELETE voicecall/{id}/release: the agent ends its call. */
  releaseByAgent(agentId: string, guid: string | undefined): void {
    const c = this.callOf(agentId, guid, 'release');
    this.release(c, 'agent', 'AgentEvent_Call_Release');
    this.hooks.hangup(c);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
