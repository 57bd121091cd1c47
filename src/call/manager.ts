/**
 * The call orchestrator for one gateway: one SIP endpoint + UA per profile, the agent pool and the
 * media plane. It turns each admitted INVITE into a Call and keeps the calls it owns.
 */
import type { Logger } from 'pino';
import type { AgentPool } from '../agents/pool.js';
import type { GatewayConfig, SipProfile } from '../config/types.js';
import { SipEndpoint } from '../sip/endpoint.js';
import type { SipRequest } from '../sip/message.js';
import { answerOffer, SdpError, type NegotiatedMedia } from '../sip/sdp.js';
import { SipStats } from '../sip/stats.js';
import { UserAgent, type IncomingInvite } from '../sip/ua.js';
import type { MediaPlane, MediaSession } from '../../media/types.js';
import { isTrusted, TokenBucket, trustedList } from './admission.js';
import { Call } from './call.js';
import { answerDtmfInfo } from './dtmf.js';
import { admit, route, type Lease, type Refusal } from './router.js';
import { streamMeta } from './meta.js';
import { resolveEngine } from '../config/engines.js';
import { fetchCallContext, termCodeFor, wrapUpSteps, type ContactCenterLink } from './lockstep.js';
import type { WrapStep, WrapUpRunner } from './wrapup.js';
import { startRegistrar, type Registrar } from './registrar.js';
import { vendorIdsFromInvite as streamVendorIds, customParams } from './meta.js';
import type { EndReason } from './state.js';
import { bridgeWebRtc } from './webrtc/bridge.js';
import { guard } from '../util/faults.js';
import { WebRtcFarEnds } from './webrtc/sources.js';

export interface ProfileRuntime {
  profile: SipProfile;
  endpoint: SipEndpoint;
  ua: UserAgent;
  trusted: ReturnType<typeof trustedList>;
}

export class CallStats {
  refusals = new Map<number, number>();
  ended = new Map<EndReason, number>();
  answered = 0;
}

export class CallManager {
  readonly calls = new Map<string, Call>();
  readonly profiles: ProfileRuntime[] = [];
  readonly sipStats = new SipStats();
  readonly callStats = new CallStats();
  draining = false;
  /** Registrar of the profile that takes SIP over WebSocket (listen.websocket), if any. */
  registrar?: Registrar;
  /** WebRTC far ends: SIP.js registrations (webrtc:sip) and /webrtc attach (webrtc:attach). */
  readonly webrtc: WebRtcFarEnds;
  private bucket: TokenBucket;
  private sessionSeq = Math.floor(Date.now() / 1000);

  /** Agent leases held through wrap-up: released only when the vendor has the agent Ready. */
  private heldLeases = new Map<string, () => void>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly agents: AgentPool,
    private readonly media: MediaPlane,
    private readonly log: Logger,
    /** Contact centers by profile name, and the wrap-up runner they share. */
    private readonly contactCenters: { links: Map<string, ContactCenterLink>; wrapUp?: WrapUpRunner } = { links: new Map() },
  ) {
    this.bucket = new TokenBucket(config.gateway.limits.maxCallsPerSecond);
    this.webrtc = new WebRtcFarEnds(config, agents, log);
  }

  /** Wrap-up hook: the vendor confirmed Ready after the agent's call, so it may take calls again. */
  agentReady(agentId: string): void {
    const release = this.heldLeases.get(agentId);
    this.heldLeases.delete(agentId);
    // No lease: the wrap-up was replayed from the outbox after a restart.
    if (release) release();
    else this.agents.setIdleState(agentId, 'ready');
  }

  async start(): Promise<void> {
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
      // The fault boundary of call setup: a bug after an await is contained, counted, and the
      // caller gets a final answer instead of an unhandled rejection.
      ua.on(
        'invite',
        guard('call.invite', (inv: IncomingInvite) => this.onInvite(rt, inv), {
          log: this.log,
          context: (inv) => ({ callId: inv.callId, profile: profile.name }),
          onFault: (_e, inv) => inv.reject(500, 'Internal error while setting up the call'),
        }),
      );
      if (l.websocket) {
        this.registrar = startRegistrar(profile, endpoint, ua, this.log);
        this.webrtc.useSip(this.registrar, ua);
      }
      this.profiles.push(rt);
    }
  }

  private refuse(inv: IncomingInvite, r: Refusal, log: Logger): void {
    this.callStats.refusals.set(r.status, (this.callStats.refusals.get(r.status) ?? 0) + 1);
    log.info({ status: r.status, reason: r.reason }, 'INVITE refused');
    inv.reject(r.status, r.reason, r.headers);
  }

  /** Refuse a call that already has its agent: the agent is given back through the wrap-up. */
  private refuseLeased(rt: ProfileRuntime, inv: IncomingInvite, lease: Lease, r: Refusal, log: Logger): void {
    this.refuse(inv, r, log);
    this.wrapUpUnanswered(rt, inv, lease, 'engine-failed', log);
  }

  /**
   * A call the contact center routed to the agent but that never got answered here (refused, or
   * cancelled while being set up) is still a call there: LiveVox holds the agent in wrap-up until
   * it has a term code, and takes Ready only after it. So it gets the same wrap-up as an ended
   * call, and the agent stays leased until the contact center has it Ready again.
   */
  private wrapUpUnanswered(rt: ProfileRuntime, inv: IncomingInvite, lease: Lease, reason: EndReason, log: Logger): void {
    const link = this.contactCenters.links.get(rt.profile.name);
    const wrapUp = this.contactCenters.wrapUp;
    const ids = streamVendorIds(inv);
    if (!link || !wrapUp || !ids.transactionId) return lease.release();
    log.info({ agent: lease.agent.id, reason }, 'call not answered: term code and Ready at the contact center');
    this.holdThroughWrapUp(wrapUp, lease, wrapUpSteps(inv.callId, lease.agent.id, ids, termCodeFor(reason, link.cc)), log);
  }

  /** The agent stays leased until the contact center confirms Ready after these steps (agentReady). */
  private holdThroughWrapUp(wrapUp: WrapUpRunner, lease: Lease, steps: WrapStep[], log: Logger): void {
    this.heldLeases.set(lease.agent.id, lease.release);
    wrapUp.add(steps).catch((e: Error) => log.error({ err: e.message }, 'wrap-up could not be recorded; agent kept out of service'));
  }

  private async onInvite(rt: ProfileRuntime, inv: IncomingInvite): Promise<void> {
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
    if (this.calls.has(inv.callId)) return this.refuse(inv, { status: 482, reason: 'Call-ID already in use' }, log);
    const routed = route(rt.profile, this.agents, inv.user, inv.callId);
    if (!('ok' in routed)) return this.refuse(inv, routed, log);
    const offer = inv.offer;
    if (!offer) return this.refuseLeased(rt, inv, routed, { status: 488, reason: 'INVITE without SDP offer is not supported' }, log);
    const engine = resolveEngine(this.config, routed.agent.engine, rt.profile);
    const farEnds = engine.kind === 'webrtc' ? this.webrtc.source(engine.name) : undefined;
    if (engine.kind === 'webrtc') {
      const why = farEnds ? farEnds.unavailable(routed.agent.id) : 'WebRTC over SIP needs a profile with listen.websocket';
      if (why) return this.refuseLeased(rt, inv, routed, { status: 480, reason: why }, log);
    }
    const meta = streamMeta(this.config.gateway.name, rt.profile.name, routed.agent, inv);
    let session: MediaSession;
    try {
      session = await this.media.open({
        callId: inv.callId,
        engine,
        meta,
        failure: rt.profile.engineFailure,
      });
    } catch (e) {
      log.error({ err: (e as Error).message }, 'no media session for call');
      return this.refuseLeased(rt, inv, routed, { status: 503, reason: `Media unavailable: ${(e as Error).message}`, headers: { 'Retry-After': String(limits.retryAfterSeconds) } }, log);
    }
    if (inv.state !== 'pending') {
      // Cancelled while the media session was being set up (the 487 has gone out already).
      session.close('caller cancelled');
      return this.wrapUpUnanswered(rt, inv, routed, 'caller-cancel', log);
    }
    const sessionId = String(++this.sessionSeq);
    let version = 1;
    const answer = (sdp: string): { sdp: string; media: NegotiatedMedia } =>
      answerOffer(sdp, { address: this.config.media.host, port: session.localPort, codecs: rt.profile.codecs, ptime: rt.profile.ptime, sessionId, sessionVersion: version++ });
    let first;
    try {
      first = answer(offer);
    } catch (e) {
      session.close();
      if (e instanceof SdpError) return this.refuseLeased(rt, inv, routed, { status: 488, reason: e.message }, log);
      routed.release();
      throw e;
    }
    const link = this.contactCenters.links.get(rt.profile.name);
    const wrapUp = this.contactCenters.wrapUp;
    const agentId = routed.agent.id;
    // With a contact center the agent stays leased through wrap-up (term code, then Ready).
    const release = link && wrapUp
      ? () => {
          const ids = call.vendorIds ?? streamVendorIds(inv);
          // A call the contact center never routed (e.g. SIPp straight at the gateway) has no
          // vendor call to put a term code on: the agent only goes back to Ready.
          const steps = ids.transactionId
            ? wrapUpSteps(inv.callId, agentId, ids, termCodeFor(call.endReason ?? 'drain', link.cc, call.termCode))
            : wrapUpSteps(inv.callId, agentId, ids, '').filter((s) => s.kind === 'ready');
          if (!ids.transactionId) call.log.warn('no contact-center call id for this SIP call: no term code, agent back to Ready');
          this.holdThroughWrapUp(wrapUp, routed, steps, call.log);
        }
      : routed.release;
    const call: Call = new Call(
      { callId: inv.callId, profile: rt.profile.name, agentId, number: routed.agent.number, caller: inv.fromUri, startedAt: Date.now() },
      session,
      release,
      log.child({ agent: agentId }),
    );
    if (link) call.vendor = { adapter: link.adapter, agentId };
    if (link && wrapUp) {
      call.onContactUpdate = async (fields) => {
        const account = call.vendorIds?.['account'] ?? call.screenPop?.['accountNumber'] ?? fields['account'];
        if (!account) return call.media.engineError('not-possible', 'updateContact: the call has no contact account (none in the screen pop, none in fields.account)');
        await wrapUp.add([{ kind: 'contact', agentId, callId: `${inv.callId}:contact:${Date.now()}`, account, fields }]);
      };
    }
    if (farEnds) bridgeWebRtc(call, session, farEnds, meta);
    this.calls.set(inv.callId, call);
    call.events$.subscribe({ complete: () => this.calls.delete(inv.callId) });
    call.events$.subscribe((ev) => {
      if (ev.type === 'ended') this.callStats.ended.set(ev.reason, (this.callStats.ended.get(ev.reason) ?? 0) + 1);
    });
    inv.onCancel = () => void call.end('caller-cancel');
    if (rt.profile.answerDelayMs > 0) {
      inv.ring();
      await new Promise((r) => setTimeout(r, rt.profile.answerDelayMs));
      if (inv.state !== 'pending') return void call.end('caller-cancel');
    }
    if (this.draining) {
      inv.reject(503, 'Gateway draining for shutdown', { 'Retry-After': String(limits.retryAfterSeconds) });
      return void call.end('drain');
    }
    const dialog = inv.accept(first.sdp, call.log);
    session.update(first.media);
    this.callStats.answered++;
    call.answered(dialog, rt.profile.maxCallSeconds);
    call.log.info({ codec: first.media.codec.name, remote: first.media.remote, transport: inv.flow.transport }, 'call answered');
    dialog.handler = {
      offer: (sdp) => {
        if (sdp === undefined) return { status: 488, reason: 'Re-INVITE without SDP offer is not supported' };
        try {
          const a = answer(sdp);
          session.update(a.media);
          call.directionChanged(a.media.direction);
          return { sdp: a.sdp };
        } catch (e) {
          if (e instanceof SdpError) return { status: 488, reason: e.message };
          throw e;
        }
      },
      info: (req: SipRequest) => answerDtmfInfo(req.headers.get('Content-Type') ?? '', req.body, (d) => call.dtmf(d)),
    };
    if (!link) return session.start();
    // Vendor ids and the screen pop go to the engine in its `start` (a late pop follows as an
    // event). The call is already up meanwhile, so a hang-up during the fetch ends it normally.
    const ctx = await fetchCallContext(link, agentId, streamVendorIds(inv), call.log, (pop) => session.engineEvent('screenPop', pop));
    call.vendorIds = ctx.ids;
    if (ctx.screenPop) call.screenPop = ctx.screenPop;
    const custom = customParams(ctx.ids, ctx.screenPop);
    // A WebRTC far end gets the same metadata in its offer as a stream engine in its `start`.
    Object.assign(meta.custom, custom);
    if (call.state !== 'ended') session.start(custom);
  }


  /** Stop taking calls; wait for calls to end by themselves, then end the rest with BYE. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + timeoutMs;
    while (this.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await Promise.all([...this.calls.values()].map((c) => c.end('drain')));
  }

  /** HTTP upgrade handler for /sip (SIP over WebSocket), when a profile takes it. */
  get sipWebSocket(): SipEndpoint['websocket'] {
    return this.profiles.find((p) => p.endpoint.websocket)?.endpoint.websocket;
  }

  async stop(): Promise<void> {
    this.registrar?.close();
    this.webrtc.close();
    await Promise.all(this.profiles.map((p) => p.endpoint.stop()));
  }
}
