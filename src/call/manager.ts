/**
 * The call orchestrator for one gateway: one SIP endpoint + UA per profile, the agent pool and the
 * media plane. Each INVITE routed to an agent becomes a Call at once, which owns the lease from
 * then on (src/call/setup.ts takes it to the answer); the manager keeps the live calls, applies
 * the contact centers' call events to them and drains them at shutdown.
 */
import type { Logger } from 'pino';
import type { AgentPool } from '../agents/pool.js';
import type { GatewayConfig } from '../config/types.js';
import { SipEndpoint } from '../sip/endpoint.js';
import { SipStats } from '../sip/stats.js';
import type { DatagramFactory } from '../sip/transport/types.js';
import { UserAgent, type IncomingInvite } from '../sip/ua.js';
import { faults, guard } from '../util/faults.js';
import { realClock, sleep, type Clock } from '../util/clock.js';
import type { InboundEvent } from '../vendors/types.js';
import type { MediaPlane } from '../../media/types.js';
import { isTrusted, TokenBucket, trustedList } from './admission.js';
import { Call } from './call.js';
import { CallStats } from './call-stats.js';
import { termCodeFor, type ContactCenterLink } from './lockstep.js';
import { vendorIdsFromInvite, type IdsFromInvite } from './meta.js';
import { applyPlatformAction } from './platform-actions.js';
import type { ProfileRuntime } from './profile-runtime.js';
import { startRegistrar, type Registrar } from './registrar.js';
import { admit, route, type Lease, type Refusal } from './router.js';
import { Headroom } from './headroom.js';
import { fromTagOf, MergedRequests } from './merged-requests.js';
import type { OpenCalls } from './open-calls.js';
import { setUpCall } from './setup.js';
import { WebRtcFarEnds } from './webrtc/sources.js';
import type { WrapStep, WrapUpRunner } from './wrapup.js';

export type { ProfileRuntime };
export { CallStats };

/** Ended calls kept for GET /calls/{id} after the end (their final record). */
const RECENT_MAX = 1000;
const RECENT_MS = 15 * 60_000;

/** Contact centers by profile name, the wrap-up runner they share, and the calls open at them (on disk). */
export interface ContactCenterWiring {
  links: Map<string, ContactCenterLink>;
  wrapUp?: WrapUpRunner;
  openCalls?: OpenCalls;
  /** By profile: the platform's softphone tokens its SIP registrar accepts (RFC 8898). */
  softphoneTokens?: Map<string, (token: string) => Promise<string>>;
}

export interface CallManagerOptions {
  /** Contact centers by profile name, and the wrap-up runner they share. */
  contactCenters?: ContactCenterWiring;
  clock?: Clock;
  /** The SIP endpoints' datagram transport (unit tests: a MemoryNetwork's factory). */
  datagram?: DatagramFactory;
  /** Profiles with no contact center: which INVITE headers still carry a platform's call ids. */
  idsFromInvite?: IdsFromInvite;
  /** Latency observers (the /metrics histograms): INVITE -> 200, hang-up -> Ready. */
  latency?: { answered(ms: number): void; readyAgain(ms: number): void };
  /** The main thread's event-loop delay (p99 of the last window, ms) for overload shedding. */
  eventLoopDelayMs?: () => number;
  /** Percent of the last window the main thread was busy (the Ready gate's signal). */
  eventLoopUtilization?: () => number;
}

export class CallManager {
  /** Live calls by the gateway's call key (the Call-ID unless another live call has it). */
  readonly calls = new Map<string, Call>();
  private readonly merged = new MergedRequests();
  readonly profiles: ProfileRuntime[] = [];
  readonly sipStats = new SipStats();
  readonly callStats = new CallStats();
  draining = false;
  /** Registrar of the profile that takes SIP over WebSocket (listen.websocket), if any. */
  registrar?: Registrar;
  /** WebRTC far ends: SIP.js registrations (webrtc:sip) and /webrtc attach (webrtc:attach). */
  readonly webrtc: WebRtcFarEnds;
  private bucket: TokenBucket;
  private seq = 0;
  private settingUp = 0;
  /** 503s for overload and the Ready gate (./headroom.ts). */
  readonly headroom: Headroom;
  private readonly clock: Clock;
  private readonly contactCenters: ContactCenterWiring;

  /** Agent leases held through wrap-up: released only when the vendor has the agent Ready. */
  private heldLeases = new Map<string, () => void>();
  /** When each agent's call ended, for the hang-up -> Ready histogram. */
  private endedAt = new Map<string, number>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly agents: AgentPool,
    private readonly media: MediaPlane,
    private readonly log: Logger,
    private readonly opts: CallManagerOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.contactCenters = opts.contactCenters ?? { links: new Map() };
    this.bucket = new TokenBucket(config.gateway.limits.maxCallsPerSecond);
    this.webrtc = new WebRtcFarEnds(config, agents, log);
    const agentCount = agents.list().length;
    this.headroom = new Headroom({
      limits: () => this.config.gateway.overload,
      signals: {
        // This call included: the limit is how many may be in setup at once.
        callsInSetup: () => this.settingUp + 1,
        pendingWrapUps: () => this.contactCenters.wrapUp?.pendingTotal ?? 0,
        wrapUpAgeMs: () => this.contactCenters.wrapUp?.oldestPendingMs() ?? 0,
        eventLoopDelayMs: () => this.opts.eventLoopDelayMs?.() ?? 0,
        eventLoopUtilization: () => this.opts.eventLoopUtilization?.() ?? 0,
        mediaLatenessMs: () => this.media.lateMs?.() ?? 0,
      },
      clock: this.clock,
      calls: () => this.calls.size,
      readyAgents: () => this.agents.readyCount,
      agents: () => agentCount,
    });
  }

  /** Wrap-up hook: the vendor confirmed Ready after the agent's call, so it may take calls again. */
  agentReady(agentId: string): void {
    const release = this.heldLeases.get(agentId);
    this.heldLeases.delete(agentId);
    const ended = this.endedAt.get(agentId);
    this.endedAt.delete(agentId);
    if (ended !== undefined) this.opts.latency?.readyAgain(this.clock.now() - ended);
    // Ready at the platform means ready here, also after a wrap-up that had failed and set the
    // agent not ready meanwhile; no lease: the wrap-up was replayed from the outbox after a restart.
    this.agents.setIdleState(agentId, 'ready');
    release?.();
  }

  async start(): Promise<void> {
    this.headroom.start();
    // A wrap-up's Ready passes the gate: under overload the platforms are offered fewer agents.
    this.contactCenters.wrapUp?.gateReady(() => this.headroom.gate.admit());
    for (const profile of this.config.profiles) {
      const l = profile.listen;
      const trusted = trustedList(profile.trustedSources);
      const edge = profile.edge;
      const endpoint = new SipEndpoint({
        host: l.host,
        port: l.port,
        transports: l.websocket ? [...l.transports, 'ws'] : l.transports,
        advertisedHost: l.advertisedHost,
        logger: this.log.child({ profile: profile.name }),
        stats: this.sipStats,
        clock: this.clock,
        ...(this.opts.datagram ? { datagram: this.opts.datagram } : {}),
        sources: {
          trusted: (address) => isTrusted(trusted, address),
          untrusted: edge.untrusted,
          rejectReason: (address) => `Source ${address} not trusted by profile ${profile.name}`,
          perSourceRate: edge.perSourceRequestsPerSecond,
          ...(edge.perSourceBurst ? { perSourceBurst: edge.perSourceBurst } : {}),
        },
        tcp: {
          maxConnections: edge.tcp.maxConnections,
          maxConnectionsPerSource: edge.tcp.maxConnectionsPerSource,
          messageTimeoutMs: edge.tcp.messageTimeoutSeconds * 1000,
          idleTimeoutMs: edge.tcp.idleTimeoutSeconds * 1000,
        },
      });
      await endpoint.start();
      const ua = new UserAgent(endpoint, { userAgent: `vagw/${this.config.gateway.name}`, sessionTimers: profile.sessionTimer, logger: this.log });
      const rt: ProfileRuntime = { profile, endpoint, ua, trusted };
      // The fault boundary of call setup before a Call exists: a bug there is contained, counted,
      // and the caller gets a final answer instead of an unhandled rejection.
      ua.on(
        'invite',
        guard('call.invite', (inv: IncomingInvite) => this.onInvite(rt, inv), {
          log: this.log,
          context: (inv) => ({ callId: inv.callId, profile: profile.name }),
          onFault: (_e, inv) => inv.reject(500, 'Internal error while setting up the call'),
        }),
      );
      if (l.websocket) {
        const bearer = this.contactCenters.softphoneTokens?.get(profile.name);
        this.registrar = startRegistrar(profile, endpoint, ua, this.log, bearer ? { bearer } : {});
        this.webrtc.useSip(this.registrar, ua);
      }
      this.profiles.push(rt);
    }
  }

  /** The last `n` ended calls, newest first (their final records). */
  recentCalls(n: number): Call[] {
    return [...this.recent.values()].slice(-n).reverse();
  }

  /** A live (or recently ended) call by the CallSid its engine got in `start`. */
  findBySid(callSid: string): Call | undefined {
    for (const c of this.calls.values()) if (c.callSid === callSid) return c;
    for (const c of this.recent.values()) if (c.callSid === callSid) return c;
    return undefined;
  }

  /** Recently ended calls by key, oldest first (their final records). */
  private readonly recent = new Map<string, Call>();

  /** A call by the gateway's key or SIP Call-ID: live ones first, then those ended in the last 15 min. */
  find(id: string): Call | undefined {
    const live = this.calls.get(id) ?? [...this.calls.values()].find((c) => c.info.callId === id);
    if (live) return live;
    const now = this.clock.wall();
    for (const [k, c] of this.recent) {
      if (now - (c.endedAt ?? 0) <= RECENT_MS) break;
      this.recent.delete(k);
    }
    return this.recent.get(id) ?? [...this.recent.values()].reverse().find((c) => c.info.callId === id);
  }

  private refuse(inv: IncomingInvite, r: Refusal, log: Logger): void {
    this.callStats.refusals.set(r.status, (this.callStats.refusals.get(r.status) ?? 0) + 1);
    log.info({ status: r.status, reason: r.reason }, 'INVITE refused');
    inv.reject(r.status, r.reason, r.headers);
  }

  private async onInvite(rt: ProfileRuntime, inv: IncomingInvite): Promise<void> {
    const t0 = this.clock.now();
    const log = this.log.child({ callId: inv.callId, profile: rt.profile.name });
    const limits = this.config.gateway.limits;
    const refusal = admit(rt.profile, inv.flow.remote.address, {
      trusted: isTrusted(rt.trusted, inv.flow.remote.address),
      draining: this.draining,
      activeCalls: this.calls.size,
      maxCalls: limits.maxCalls,
      rateOk: this.bucket.take(),
      retryAfterSeconds: limits.retryAfterSeconds,
    });
    if (refusal) return this.refuse(inv, refusal, log);
    // §8.2.2.2 (./merged-requests.ts).
    const fromTag = fromTagOf(inv);
    if (this.merged.isMerged(inv.callId, fromTag, this.calls.values())) {
      return this.refuse(inv, { status: 482, reason: 'Loop Detected: a call with this Call-ID and From tag is in progress' }, log);
    }
    const routed = route(rt.profile, this.agents, inv.user, inv.callId);
    if (!('ok' in routed)) return this.refuse(inv, routed, log);

    // From here on the Call owns the lease: every exit is call.end().
    const call = this.newCall(rt, inv, routed, fromTag, log);
    const link = this.contactCenters.links.get(rt.profile.name);
    const over = this.headroom.decide(link !== undefined);
    if (over) {
      this.callStats.shed.set(over.signal, (this.callStats.shed.get(over.signal) ?? 0) + 1);
      // Counted in vagw_overload_shed_total; a line per refused call would add load when there is too much.
      call.log.debug(over, 'overloaded: call refused early');
      const retry = { 'Retry-After': String(limits.retryAfterSeconds) };
      return void call.end('overload', { status: 503, reason: `Gateway overloaded (${over.signal} ${Math.round(over.value)} over ${over.limit})`, headers: retry });
    }
    this.settingUp++;
    const seq = ++this.seq;
    try {
      await setUpCall(
        {
          config: this.config,
          media: this.media,
          webrtc: this.webrtc,
          clock: this.clock,
          mediaKey: `${seq}:${inv.callId}`,
          sdpSessionId: String(Math.floor(this.clock.wall() / 1000) * 1000 + (seq % 1000)),
          draining: () => this.draining,
          answered: () => {
            this.callStats.answered++;
            this.opts.latency?.answered(this.clock.now() - t0);
          },
          opened: (ids) => {
            const open = this.contactCenters.openCalls;
            if (!open || !this.contactCenters.wrapUp) return;
            const rec = { callId: call.info.key, agentId: call.info.agentId, profile: rt.profile.name, ids, answeredAt: this.clock.wall() };
            open.opened(rec).catch((e: Error) => call.log.error({ err: e.message }, 'open call could not be recorded: its wrap-up would not survive a crash'));
          },
          ...(link ? { link } : {}),
          ...(this.contactCenters.wrapUp ? { wrapUp: this.contactCenters.wrapUp } : {}),
          ...(this.opts.idsFromInvite ? { idsFromInvite: this.opts.idsFromInvite } : {}),
        },
        rt,
        inv,
        call,
        routed,
      );
    } catch (e) {
      faults.record('call.setup', e, { callId: inv.callId, profile: rt.profile.name }, call.log);
      await call.end('internal-error');
    } finally {
      this.settingUp--;
    }
  }

  /** Calls routed and not yet answered (or refused): INVITEs queueing inside the gateway. */
  get callsInSetup(): number {
    return this.settingUp;
  }

  /** The share of new calls refused for overload now (0..1). */
  get shedShare(): number {
    return this.headroom.shedShare;
  }

  private newCall(rt: ProfileRuntime, inv: IncomingInvite, routed: Lease, fromTag: string, log: Logger): Call {
    const key = this.calls.has(inv.callId) ? `${inv.callId}~${this.seq + 1}` : inv.callId;
    const agentId = routed.agent.id;
    const call = new Call(
      { key, callId: inv.callId, profile: rt.profile.name, agentId, number: routed.agent.number, caller: inv.fromUri, startedAt: this.clock.wall() },
      inv,
      (c) => this.finish(rt, inv, c, routed),
      log.child({ agent: agentId, ...(key !== inv.callId ? { callKey: key } : {}) }),
      this.clock,
    );
    call.fromTag = fromTag;
    this.calls.set(key, call);
    this.merged.added(inv.callId);
    call.events$.subscribe({
      next: (ev) => {
        if (ev.type !== 'ended') return;
        this.callStats.ended.set(ev.reason, (this.callStats.ended.get(ev.reason) ?? 0) + 1);
        const st = call.refusedWith;
        if (st !== undefined) this.callStats.refusals.set(st, (this.callStats.refusals.get(st) ?? 0) + 1);
      },
      complete: () => {
        this.calls.delete(key);
        this.merged.removed(inv.callId);
        // A call less in service: a Ready held at the gate may go.
        this.headroom.gate.wake();
        this.recent.delete(key);
        this.recent.set(key, call);
        if (this.recent.size > RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
        void call.recorded?.then(() => {
          const f = call.finalStats;
          if (!f) return;
          const m = this.callStats.media;
          m.packetsIn += f.packetsIn;
          m.packetsOut += f.packetsOut;
          m.dtmfIn += f.dtmfIn;
          m.dtmfOut += f.dtmfOut;
          m.engineFramesIn += f.engineFramesIn;
          m.engineFramesOut += f.engineFramesOut;
        });
      },
    });
    inv.onCancel = () => void call.end('caller-cancel');
    return call;
  }

  /**
   * The end of every routed call, once: the agent's wrap-up at its contact center (the plan is
   * the platform's; the agent stays leased until the platform has it Ready), or the lease back.
   */
  private finish(rt: ProfileRuntime, inv: IncomingInvite, call: Call, lease: Lease): void {
    const link = this.contactCenters.links.get(rt.profile.name);
    const wrapUp = this.contactCenters.wrapUp;
    if (!link || !wrapUp) return lease.release();
    const ids = call.vendorIds ?? vendorIdsFromInvite(inv, link.policy.idsFromInvite);
    const routedByPlatform = link.policy.isPlatformCall(ids);
    // Refused before the answer and never routed by the platform: its state there never changed.
    if (!routedByPlatform && !call.isAnswered) return lease.release();
    if (!routedByPlatform) call.log.warn('no contact-center call id for this SIP call: no disposition, agent back to Ready');
    const agentId = lease.agent.id;
    let steps = link.policy.wrapUpPlan({ callId: call.info.key, agentId, ids, termCode: termCodeFor(call.endReason ?? 'drain', link.cc, call.termCode, call.isAnswered), answered: call.isAnswered });
    if (call.endReason === 'overload') {
      // The platform gets the agent back after Retry-After: its offered load falls while we recover.
      const notBefore = this.clock.wall() + this.config.gateway.limits.retryAfterSeconds * 1000;
      steps = steps.map((s) => (s.kind === 'ready' ? { ...s, notBefore } : s));
    }
    call.log.info({ steps: steps.map((s) => s.kind), answered: call.isAnswered }, 'wrap-up at the contact center');
    this.holdThroughWrapUp(wrapUp, lease, steps, call.log, call.info.key);
  }

  /** The agent stays leased until the contact center confirms Ready after these steps (agentReady). */
  private holdThroughWrapUp(wrapUp: WrapUpRunner, lease: Lease, steps: WrapStep[], log: Logger, callKey: string): void {
    if (!steps.some((s) => s.kind === 'ready')) log.warn('the wrap-up plan has no Ready step: the agent stays out of service until an operator sets it Ready');
    this.heldLeases.set(lease.agent.id, lease.release);
    this.endedAt.set(lease.agent.id, this.clock.now());
    const open = this.contactCenters.openCalls;
    wrapUp.add(steps, open ? { onDisk: () => open.closed(callKey) } : {}).catch((e: Error) => log.error({ err: e.message }, 'wrap-up could not be recorded; agent kept out of service'));
  }

  /** A contact center's call event (released there, or an action it asks for): see platform-actions.ts. */
  platformEvent(ev: Exclude<InboundEvent, { type: 'agent-state' }>, link: ContactCenterLink): void {
    const call = [...this.calls.values()].find((c) => c.info.agentId === ev.agentId && c.state !== 'ended');
    applyPlatformAction(call, ev, link, this.log);
  }

  /** Stop taking calls; wait for calls to end by themselves, then end the rest with BYE. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    // No new calls come: nothing to hold a Ready back for.
    this.headroom.stop();
    const deadline = this.clock.now() + timeoutMs;
    while (this.calls.size > 0 && this.clock.now() < deadline) await sleep(this.clock, 100);
    await Promise.all([...this.calls.values()].map((c) => c.end('drain')));
  }

  /** HTTP upgrade handler for /sip (SIP over WebSocket), when a profile takes it. */
  get sipWebSocket(): SipEndpoint['websocket'] {
    return this.profiles.find((p) => p.endpoint.websocket)?.endpoint.websocket;
  }

  async stop(): Promise<void> {
    this.headroom.stop();
    this.registrar?.close();
    this.webrtc.close();
    await Promise.all(this.profiles.map((p) => p.endpoint.stop()));
  }
}
