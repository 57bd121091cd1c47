/** Process wiring: config -> agents, media, calls, HTTP -> start; drain and stop. */
import type { Logger } from 'pino';
import { AgentPool } from './agents/pool.js';
import { HttpApi } from './api/http.js';
import type { ControlSources } from './api/control.js';
import type { MetricsSource } from './api/metrics.js';
import { faults } from './util/faults.js';
import { CallManager } from './call/manager.js';
import { connectCluster, holdAgentsForCluster, startCluster } from './cluster-wiring.js';
import { startContactCenters, type ContactCenters } from './contact-center.js';
import { idsFromAnyInvite } from './vendors/registry.js';
import { readdirSync } from 'node:fs';
import { Latency } from './api/latency.js';
import { EventLoopDelay } from './call/overload.js';
import type { GatewayConfig } from './config/types.js';
import { WorkerMediaPlane } from '../media/worker-plane.js';

export interface RunningGateway {
  config: GatewayConfig;
  media: WorkerMediaPlane;
  contactCenters: ContactCenters;
  calls: CallManager;
  agents: AgentPool;
  httpPort: number;
  /** Bound SIP port of each profile, by profile name. */
  sipPorts: Record<string, number>;
  /** Refuse new calls, let calls finish (up to the drain timeout), end the rest, stop. */
  shutdown(drainTimeoutMs?: number): Promise<void>;
}

/** Each platform's link counters (one adapter per platform). */
function vendorCounters(cc: ContactCenters): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const l of cc.links.values()) if (l.adapter.counters) out[l.vendor] = l.adapter.counters();
  return out;
}

export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
  const agents = new AgentPool(config.profiles);
  const m = config.media;
  let workerRestarts = 0;
  const media = new WorkerMediaPlane({
    host: m.host,
    portMin: m.rtpPortMin,
    portMax: m.rtpPortMax,
    workers: m.workers,
    settings: {
      host: m.host,
      rtpTimeoutMs: m.rtpTimeoutSeconds * 1000,
      jitterMinMs: m.jitterMinMs,
      jitterMaxMs: m.jitterMaxMs,
      engineBufferFrames: m.engineBufferSeconds * 50,
      ice: {
        portMin: m.webrtc.icePortMin,
        portMax: m.webrtc.icePortMax,
        ...(m.webrtc.advertisedAddress ? { advertisedAddress: m.webrtc.advertisedAddress } : {}),
        servers: m.webrtc.iceServers.map((x) => ({ urls: x.urls, ...(x.username ? { username: x.username } : {}), ...(x.credential ? { credential: x.credential } : {}) })),
      },
    },
    onWorkerDied: (index, err) => {
      workerRestarts++;
      log.error({ worker: index, err }, 'media worker died: its calls were ended and it was replaced');
    },
  });
  const clusterStore = connectCluster(config, log);
  const cc = await startContactCenters(config, agents, log, clusterStore);
  holdAgentsForCluster(config, agents);
  const latency = new Latency();
  const loopDelay = new EventLoopDelay();
  const calls = new CallManager(config, agents, media, log, { contactCenters: { links: cc.links, ...(cc.wrapUp ? { wrapUp: cc.wrapUp } : {}), ...(cc.openCalls ? { openCalls: cc.openCalls } : {}), softphoneTokens: cc.softphoneTokens }, idsFromInvite: idsFromAnyInvite, latency, eventLoopDelayMs: () => loopDelay.p99Ms, eventLoopUtilization: () => loopDelay.utilizationPercent });
  await calls.start();
  const metrics = (): MetricsSource => ({
    gateway: config.gateway.name,
    activeCalls: calls.calls.size,
    draining: calls.draining,
    answered: calls.callStats.answered,
    callMedia: calls.callStats.media,
    ended: calls.callStats.ended,
    refusals: calls.callStats.refusals,
    overload: {
      shed: calls.callStats.shed,
      callsInSetup: calls.callsInSetup,
      eventLoopDelayMs: loopDelay.p99Ms,
      eventLoopUtilizationPercent: loopDelay.utilizationPercent,
      shedShare: calls.shedShare,
      readyGate: { limit: calls.headroom.gate.limit ?? agents.list().length, waiting: calls.headroom.gate.waiting, held: calls.headroom.gate.stats.held },
      mediaLatenessMs: media.lateMs?.() ?? 0,
      oldestWrapUpSeconds: cc.wrapUp ? cc.wrapUp.oldestPendingMs() / 1000 : 0,
    },
    process: processFigures(),
    sip: calls.sipStats,
    internalErrors: faults.counts,
    agents: agents.counts(),
    rtpPortsInUse: media.portsInUse(),
    rtpPortsFree: media.portsFree(),
    mediaSessions: media.activeSessions,
    mediaWorkerRestarts: workerRestarts,
    ...(cc.wrapUp ? { wrapUp: { ...cc.wrapUp.stats, pending: cc.wrapUp.pendingTotal } } : {}),
    contactCenters: vendorCounters(cc),
  });
  const control: ControlSources = {
    calls: () => calls.calls.values(),
    call: (id) => calls.find(id),
    agents: () => agents.list(),
    agentDetail: (id) => {
      // Whether a WebRTC far end can take this agent's calls right now (SIP.js registration, /webrtc claim).
      const webrtc = { ...(calls.registrar?.lookup(id) ? { registered: true } : {}), ...(calls.webrtc.attach.claimed(id) ? { attached: true } : {}) };
      const lc = cc.lifecycleOf(id);
      if (!lc) return webrtc;
      const st = lc.states.get(id)!;
      return {
        ...webrtc,
        vendor: cc.linkFor(id)?.vendor,
        vendorPhase: st.phase,
        keepAlives: st.keepAlives,
        wrapUpPending: cc.wrapUp?.pendingFor(id) ?? 0,
        ...(st.platform ? { platformState: st.platform.state, platformStateAt: new Date(st.platform.at).toISOString() } : {}),
        ...(st.lastError ? { lastError: st.lastError } : {}),
      };
    },
    setAgentState: async (id, state) => {
      // The agent's own contact center is told first: an agent is Ready here only when it is Ready there.
      const link = cc.linkFor(id);
      if (link) await (state === 'ready' ? link.adapter.ready(id) : link.adapter.notReady(id, 'operator'));
      return agents.setIdleState(id, state);
    },
  };
  // SIP over WebSocket (RFC 7118): /sip upgrades go to the transport of the profile that takes it.
  const sipWs = calls.sipWebSocket;
  const attach = calls.webrtc.attach;
  const upgrades = { ...(sipWs ? { '/sip': sipWs.handleUpgrade.bind(sipWs) } : {}), '/webrtc': attach.handleUpgrade.bind(attach) };
  // The demo page's "call me": the agent's sandbox contact center routes a customer call to it.
  // The page names its agent by number or id.
  const agentOf = (idOrNumber: string) => config.profiles.flatMap((p) => p.agents).find((a) => a.id === idOrNumber || a.number === idOrNumber || a.key === idOrNumber.replace(/[^0-9]/g, ''));
  const sandboxOf = (agent: string) => cc.sandboxes.get(cc.linkFor(agentOf(agent)?.id ?? agent)?.vendor ?? '');
  const demo = cc.sandboxes.size
    ? {
        placeCall: async (agent: string) => (sandboxOf(agent) ?? [...cc.sandboxes.values()][0]!).placeCall(agentOf(agent)?.vendorUser ?? agent),
        token: async (agent: string) => {
          const sandbox = sandboxOf(agent);
          if (!sandbox?.softphoneToken) throw Object.assign(new Error(`agent ${agent} is not on a platform that issues softphone tokens`), { status: 404 });
          return sandbox.softphoneToken(agentOf(agent)?.vendorUser ?? agent);
        },
      }
    : {};
  // Twilio-compatible REST hang-up for engines that end calls that way (Pipecat's auto_hang_up).
  const twilio = {
    accountSid: config.gateway.name,
    callBySid: (sid: string) => {
      const c = calls.findBySid(sid);
      if (!c) return undefined;
      return {
        live: !c.hasEnded,
        engineToken: c.engineName ? config.engines[c.engineName]?.restAuthToken : undefined,
        hangup: (by: string) => {
          c.endedBy ??= by;
          void c.control({ type: 'hangup' });
        },
      };
    },
  };
  // The media key is '<seq>:<SIP Call-ID>' (src/call/manager.ts): each live session back to its call.
  const liveCalls = async (): Promise<Record<string, unknown>[]> => {
    const bySipId = new Map([...calls.calls.values()].map((c) => [c.info.callId, c]));
    return ((await media.live?.()) ?? []).slice(0, 50).map((l) => {
      const c = bySipId.get(l.callId.slice(l.callId.indexOf(':') + 1));
      return { ...l, callId: c?.info.callId ?? l.callId, agentId: c?.info.agentId ?? '' };
    });
  };
  const dashboard = async (): Promise<Record<string, unknown>> => {
    const byCenter: Record<string, Record<string, number>> = {};
    for (const a of agents.list()) {
      const center = cc.linkFor(a.id)?.vendor ?? 'none';
      const c = (byCenter[`${center} (${a.profile})`] ??= {});
      c[a.state] = (c[a.state] ?? 0) + 1;
    }
    return {
      gateway: config.gateway.name,
      at: Date.now(),
      activeCalls: calls.calls.size,
      answered: calls.callStats.answered,
      ended: Object.fromEntries(calls.callStats.ended),
      refusals: Object.fromEntries(calls.callStats.refusals),
      wrapUp: cc.wrapUp ? { ...cc.wrapUp.stats, pending: cc.wrapUp.pendingTotal } : { pending: 0, failures: 0 },
      agents: byCenter,
      media: { 'RTP ports in use': media.portsInUse(), 'RTP ports free': media.portsFree(), sessions: media.activeSessions, 'worker restarts': workerRestarts },
      liveCalls: await liveCalls(),
      recentCalls: calls.recentCalls(20).map((c) => ({ callId: c.info.callId, agentId: c.info.agentId, endedBy: c.endedBy, durationMs: c.durationMs ?? 0, endReason: c.endReason, media: c.finalStats ?? c.media.stats })),
    };
  };
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  const http = new HttpApi({ metrics, health: () => ({ draining: calls.draining, activeCalls: calls.calls.size }), control, demo, upgrades, twilio, histograms: () => latency.text(), dashboard, platformRoutes: () => cc.httpRoutes, cluster: () => cluster?.peers });
  let httpPort: number;
  try {
    httpPort = await http.listen(config.gateway.http.host, config.gateway.http.port);
  } catch (e) {
    await calls.stop();
    throw e;
  }
  await cc.httpReady(httpPort);
  const sipPorts = Object.fromEntries(calls.profiles.map((p) => [p.profile.name, p.endpoint.port]));
  await cc.attachSip(sipPorts, Object.fromEntries(calls.profiles.map((p) => [p.profile.name, { endpoint: p.endpoint, host: p.profile.listen.advertisedHost, port: p.endpoint.port }])));
  await cc.start({
    agentReady: (id) => calls.agentReady(id),
    inbound: (ev, link) => calls.platformEvent(ev, link),
  });
  cluster = await startCluster(config, clusterStore, agents, cc, { httpPort, sipPorts, log });
  let stopping: Promise<void> | undefined;
  return {
    config,
    media,
    contactCenters: cc,
    calls,
    agents,
    httpPort,
    sipPorts,
    shutdown(drainTimeoutMs = config.gateway.drainTimeoutSeconds * 1000) {
      stopping ??= (async () => {
        await calls.drain(drainTimeoutMs);
        // Leases given back once no call is left: the other nodes take the agents at once.
        await cluster?.stop();
        // The contact centers first, while SIP still listens: phones registered with a platform
        // are unregistered through the endpoint they were registered from.
        await cc.close();
        cluster?.disconnect();
        await Promise.all([calls.stop(), http.close(), media.close()]);
        loopDelay.stop();
      })();
      return stopping;
    },
  };
}

/** Memory and open descriptors of this process (/proc/self/fd on Linux; null elsewhere). */
function processFigures(): { rss: number; heapUsed: number; openFds: number | null } {
  const m = process.memoryUsage();
  let openFds: number | null = null;
  try {
    openFds = readdirSync('/proc/self/fd').length;
  } catch {
    // not Linux
  }
  return { rss: m.rss, heapUsed: m.heapUsed, openFds };
}
