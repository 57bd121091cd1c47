/**
 * Process wiring of the contact centers: one runtime per platform in use (src/vendors/registry.ts),
 * each profile linked to the adapter and policy of the platform it names, each agent to its own
 * profile's link; the agents' lifecycles; the shared wrap-up runner over the durable outbox; and
 * the platforms' inbound events routed to the agent lifecycle or the call layer. A platform run as
 * its sandbox brings its strict simulator and call placer with it.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { AgentLifecycle } from './agents/lifecycle.js';
import type { AgentPool } from './agents/pool.js';
import type { ContactCenterLink } from './call/lockstep.js';
import { OpenCalls, type OpenCall } from './call/open-calls.js';
import { WrapUpRunner, type WrapStep } from './call/wrapup.js';
import type { GatewayConfig, SipProfile } from './config/types.js';
import { Outbox, type OutboxEntry, type OutboxStore } from './store/outbox.js';
import type { ContactCenterRuntime, PluginHttpRoutes, ProfileSip, SandboxHandle } from './vendors/plugin.js';
import { pluginFor, pluginNames } from './vendors/registry.js';
import type { InboundEvent, VendorCallIds } from './vendors/types.js';

export interface ContactCenters {
  /** By profile name. */
  links: Map<string, ContactCenterLink>;
  /** The link of the profile an agent belongs to. */
  linkFor(agentId: string): ContactCenterLink | undefined;
  wrapUp?: WrapUpRunner;
  /** Calls answered for a contact center whose wrap-up is not yet in the outbox (on disk). */
  openCalls?: OpenCalls;
  lifecycles: AgentLifecycle[];
  /** The lifecycle of the profile an agent belongs to. */
  lifecycleOf(agentId: string): AgentLifecycle | undefined;
  /** By profile name: the softphone tokens its platform issues, for the profile's SIP registrar. */
  softphoneTokens: Map<string, (token: string) => Promise<string>>;
  /** Endpoints platforms serve on the gateway's HTTP port (the CCaaS voice adapter). */
  httpRoutes: PluginHttpRoutes[];
  /** In a cluster: whether this node still holds an agent's lease (set by the cluster wiring). */
  fence?: (agentId: string) => Promise<boolean>;
  /** Platforms run as their sandbox (strict simulator + call placer), by platform name. */
  sandboxes: Map<string, SandboxHandle>;
  /** The HTTP side listens on `port`: platforms that call the gateway learn its URLs. */
  httpReady(port: number): Promise<void>;
  /** Called by the call layer once the SIP side is listening (the placers need its port; phones register from it). */
  attachSip(sipPorts: Record<string, number>, sip?: Record<string, ProfileSip>): Promise<void>;
  /**
   * Log agents in, replay the outbox (its steps need sessions), keep agents in step, and deliver
   * the platforms' call events to `inbound` (agent-state events go to the lifecycles).
   */
  start(hooks: { agentReady(agentId: string): void; inbound(ev: Exclude<InboundEvent, { type: 'agent-state' }>, link: ContactCenterLink): void }): Promise<void>;
  close(): Promise<void>;
}

/** Where wrap-up steps and open calls are kept: files in dataDir, or Redis in a cluster (src/cluster-wiring.ts). */
export interface OutboxStores {
  wrapUp: OutboxStore<WrapStep> & { close(): Promise<void> };
  openCalls: OutboxStore<OpenCall> & { close(): Promise<void> };
}

export async function startContactCenters(config: GatewayConfig, pool: AgentPool, log: Logger, stores?: OutboxStores): Promise<ContactCenters> {
  const vendorProfiles = config.profiles.filter((p) => p.contactCenter.vendor !== 'none');
  const links = new Map<string, ContactCenterLink>();
  const agentLink = new Map<string, ContactCenterLink>();
  const cc: ContactCenters = {
    links,
    linkFor: (id) => agentLink.get(id),
    lifecycles: [],
    lifecycleOf: (agentId) => cc.lifecycles.find((l) => l.states.has(agentId)),
    httpRoutes: [],
    softphoneTokens: new Map(),
    sandboxes: new Map(),
    attachSip: async () => undefined,
    httpReady: async () => undefined,
    start: async () => undefined,
    close: async () => undefined,
  };
  if (vendorProfiles.length === 0) return cc;

  const byVendor = new Map<string, SipProfile[]>();
  for (const p of vendorProfiles) byVendor.set(p.contactCenter.vendor, [...(byVendor.get(p.contactCenter.vendor) ?? []), p]);
  const runtimes = new Map<string, ContactCenterRuntime>();
  for (const [vendor, profiles] of byVendor) {
    const plugin = pluginFor(vendor);
    // The config loader validates the name; this guards a build whose registry lost a platform.
    if (!plugin) throw new Error(`contactCenter.vendor '${vendor}' (profile ${profiles[0]!.name}) is not a platform of this build; known: ${pluginNames().join(', ')}`);
    const rt = await plugin.start({ config, profiles, log, openJournal: (name) => Outbox.open(path.join(config.dataDir, `${name}.jsonl`)) });
    runtimes.set(vendor, rt);
    if (rt.httpRoutes) cc.httpRoutes.push(rt.httpRoutes);
    if (rt.sandbox) cc.sandboxes.set(vendor, rt.sandbox);
    for (const p of profiles) {
      const link: ContactCenterLink = { vendor, adapter: rt.adapter, policy: rt.policy(p.contactCenter), cc: p.contactCenter };
      links.set(p.name, link);
      if (rt.verifySoftphoneToken) cc.softphoneTokens.set(p.name, (t) => rt.verifySoftphoneToken!(t));
      for (const a of p.agents) agentLink.set(a.id, link);
    }
  }

  const outbox = stores?.wrapUp ?? (await Outbox.open<WrapStep>(path.join(config.dataDir, 'wrapup-outbox.jsonl')));
  const openJournal = stores?.openCalls ?? (await Outbox.open<OpenCall>(path.join(config.dataDir, 'open-calls.jsonl')));
  cc.openCalls = new OpenCalls(openJournal);
  let agentReady: (id: string) => void = () => undefined;
  const maxAttempts = Math.max(...vendorProfiles.map((p) => p.contactCenter.wrapUp.maxAttempts));
  const retryMs = Math.min(...vendorProfiles.map((p) => p.contactCenter.wrapUp.retryMs));
  cc.wrapUp = new WrapUpRunner(
    outbox,
    (agentId) => agentLink.get(agentId)?.adapter,
    { maxAttempts, retryMs },
    {
      ready: (agentId) => agentReady(agentId),
      failed: (agentId, _callId, error) => cc.lifecycleOf(agentId)?.markFailed(agentId, error),
      ...(config.cluster ? { mayAct: (agentId: string) => (cc.fence ? cc.fence(agentId) : Promise.resolve(false)) } : {}),
    },
    log.child({ component: 'wrap-up' }),
  );
  for (const p of vendorProfiles) {
    const link = links.get(p.name)!;
    cc.lifecycles.push(new AgentLifecycle(p, link.adapter, link.policy, pool, log.child({ component: 'agents', profile: p.name }), {
      pendingWrapUp: (id) => cc.wrapUp!.pendingFor(id),
      resumeWrapUp: (id) => cc.wrapUp!.retryNow(id),
      pendingCalls: (id) => cc.wrapUp!.pendingCalls(id),
      // A call the platform holds the agent in wrap-up for and nobody here wraps up: its node died
      // (cluster), or its INVITE was refused while the agent was being signed in (any gateway).
      orphanedCall: (id: string, ids: VendorCallIds) => cc.wrapUp!.add(failedWrapUp(link, `orphan:${Object.values(ids).join('/')}`, id, ids)),
    }));
  }

  cc.attachSip = async (sipPorts, sip) => {
    for (const [vendor, sandbox] of cc.sandboxes) {
      // The sandbox calls the first profile that names its platform.
      const target = byVendor.get(vendor)![0]!;
      await sandbox.attachSip({ host: target.listen.advertisedHost, port: sipPorts[target.name]! });
    }
    if (sip) for (const rt of runtimes.values()) await rt.sipReady?.(sip);
  };

  cc.httpReady = async (port) => {
    for (const rt of runtimes.values()) await rt.httpReady?.(port);
  };

  const unsubscribe: (() => void)[] = [];
  cc.start = async (hooks) => {
    agentReady = hooks.agentReady;
    for (const rt of runtimes.values()) {
      const stop = rt.adapter.subscribe?.((ev) => {
        const link = agentLink.get(ev.agentId);
        if (!link || link.adapter !== rt.adapter) {
          // Never applied to another agent or call: refused and logged.
          log.warn({ event: ev.type, agent: ev.agentId, vendor: rt.adapter.name }, 'contact-center event for an agent this gateway does not serve: ignored');
          if (ev.type === 'call-action') ev.respond?.({ ok: false, status: 404, reason: `no virtual agent ${ev.agentId} on this gateway` });
          return;
        }
        if (ev.type === 'agent-state') cc.lifecycleOf(ev.agentId)?.platformState(ev.agentId, ev.state, ev.reason, ev.ours === true);
        else hooks.inbound(ev, link);
      });
      if (stop) unsubscribe.push(stop);
    }
    await recoverOpenCalls(cc, log);
    await Promise.all(cc.lifecycles.map((l) => l.check()));
    const replayed = cc.wrapUp!.replay();
    if (replayed.length) log.warn({ agents: replayed }, 'replaying wrap-up steps left in the outbox by the previous run');
    for (const l of cc.lifecycles) l.start();
  };

  cc.close = async () => {
    for (const stop of unsubscribe) stop();
    for (const l of cc.lifecycles) l.stop();
    cc.wrapUp?.stop();
    await outbox.close();
    await openJournal.close();
    await Promise.all([...runtimes.values()].map((rt) => rt.close()));
  };
  return cc;
}

/** The platform's wrap-up of a call nobody can say more of than that it failed (it died, or never arrived). */
function failedWrapUp(link: ContactCenterLink, callId: string, agentId: string, ids: VendorCallIds): WrapStep[] {
  return link.policy.wrapUpPlan({ callId, agentId, ids, termCode: link.cc.termCodes.failed, answered: true });
}

/**
 * Calls the previous run answered and never wrapped up (it died with them): each gets its
 * platform's wrap-up with the profile's `failed` term code, recorded before the agents are
 * signed in so their lifecycles hold Ready back until it is done; `replay` then runs it. `only`:
 * a cluster node taking over an agent recovers what the agent's dead owner left (not run here:
 * the agent's lifecycle resumes it once signed in).
 */
export async function recoverOpenCalls(cc: ContactCenters, log: Logger, only?: OutboxEntry<OpenCall>[]): Promise<void> {
  const wrapUp = cc.wrapUp!;
  const r = await cc.openCalls!.recover({
    hasSteps: (callId) => wrapUp.hasStepsFor(callId),
    record: (steps) => wrapUp.add(steps, { run: false }),
    plan: (c) => {
      const link = cc.links.get(c.profile);
      if (!link || cc.linkFor(c.agentId) !== link) return undefined;
      return failedWrapUp(link, c.callId, c.agentId, c.ids);
    },
  }, only);
  for (const c of r.wrapped) log.warn({ callId: c.callId, agent: c.agentId, ids: c.ids }, 'call ended with the previous run before its wrap-up: wrapped up now as failed');
  for (const c of r.unknownProfile) log.error({ callId: c.callId, agent: c.agentId, profile: c.profile, ids: c.ids }, 'call ended with the previous run; its profile or agent is no longer configured: no wrap-up possible, reported only');
  if (r.alreadyQueued.length) log.info({ calls: r.alreadyQueued.map((c) => c.callId) }, 'open calls of the previous run already had their wrap-up queued');
}
