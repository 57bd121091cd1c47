/**
 * Process wiring of the contact centers: for every profile whose agents a vendor drives, the
 * adapter, the agents' lifecycle and the shared wrap-up runner over the durable outbox. With
 * `livevox.baseUrl: sandbox` the strict LiveVox simulator and its call placer run in-process, so
 * the whole flow works with no LiveVox account: POST /__sim/calls on the simulator places a call.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { AgentLifecycle } from './agents/lifecycle.js';
import type { AgentPool } from './agents/pool.js';
import type { ContactCenterLink } from './call/lockstep.js';
import { WrapUpRunner, type WrapStep } from './call/wrapup.js';
import type { GatewayConfig } from './config/types.js';
import { Outbox } from './store/outbox.js';
import { LiveVoxAdapter } from './vendors/livevox/adapter.js';
import { LiveVoxClient } from './vendors/livevox/client.js';
import { startLiveVoxSimulator, type LiveVoxSimulator } from './vendors/livevox/simulator/index.js';
import { CallPlacer } from './vendors/livevox/simulator/placer.js';
import type { VendorAdapter } from './vendors/types.js';

export interface ContactCenters {
  links: Map<string, ContactCenterLink>;
  wrapUp?: WrapUpRunner;
  lifecycles: AgentLifecycle[];
  simulator?: LiveVoxSimulator;
  placer?: CallPlacer;
  /** Called by the call layer once the SIP side is listening (the placer needs its port). */
  attachSip(sipPorts: Record<string, number>): Promise<void>;
  /** Log agents in, then replay the outbox (its steps need sessions), then keep agents in step. */
  start(hooks: { agentReady(agentId: string): void }): Promise<void>;
  close(): Promise<void>;
}

export async function startContactCenters(config: GatewayConfig, pool: AgentPool, log: Logger): Promise<ContactCenters> {
  const vendorProfiles = config.profiles.filter((p) => p.contactCenter.vendor === 'livevox');
  const cc: ContactCenters = {
    links: new Map(),
    lifecycles: [],
    attachSip: async () => undefined,
    start: async () => undefined,
    close: async () => undefined,
  };
  if (vendorProfiles.length === 0) return cc;

  const lv = config.livevox;
  let baseUrl = lv.baseUrl;
  if (baseUrl === 'sandbox') {
    cc.simulator = await startLiveVoxSimulator({
      port: lv.sandboxPort,
      accessToken: lv.accessToken,
      clientName: lv.clientName,
      sessionIdleMs: lv.sandboxSessionIdleMinutes * 60_000,
      logger: log.child({ component: 'livevox-sandbox' }),
      agents: vendorProfiles.flatMap((p) => p.agents.map((a) => ({ user: a.vendorUser, password: a.vendorPassword ?? p.contactCenter.password ?? 'sandbox' }))),
      services: [...new Set(vendorProfiles.map((p) => p.contactCenter.serviceId!))].map((id) => {
        const tc = vendorProfiles.find((p) => p.contactCenter.serviceId === id)!.contactCenter.termCodes;
        return {
          id,
          termCodes: Object.values(tc).map((name, i) => ({ id: String(1000 + i), name })),
          phonebooks: [{ id: '1', name: 'Human Agents', contacts: [{ id: '10', name: 'Tier 1', phoneNumber: '+15550100100' }] }],
        };
      }),
    });
    baseUrl = cc.simulator.url;
    log.info({ url: baseUrl }, 'LiveVox sandbox simulator started (POST /__sim/calls to place a call)');
  }
  const client = new LiveVoxClient({ baseUrl, accessToken: lv.accessToken, clientName: lv.clientName, timeoutMs: lv.timeoutMs, retries: lv.retries, logger: log.child({ component: 'livevox' }) });
  const adapter: VendorAdapter = new LiveVoxAdapter({ client, logger: log.child({ component: 'livevox' }) });
  const agentProfile = new Map<string, ContactCenterLink>();
  for (const p of vendorProfiles) {
    const link = { adapter, cc: p.contactCenter };
    cc.links.set(p.name, link);
    for (const a of p.agents) agentProfile.set(a.id, link);
  }
  const outbox = await Outbox.open<WrapStep>(path.join(config.dataDir, 'wrapup-outbox.jsonl'));
  let agentReady: (id: string) => void = () => undefined;
  const maxAttempts = Math.max(...vendorProfiles.map((p) => p.contactCenter.wrapUp.maxAttempts));
  const retryMs = Math.min(...vendorProfiles.map((p) => p.contactCenter.wrapUp.retryMs));
  cc.wrapUp = new WrapUpRunner(
    outbox,
    (agentId) => agentProfile.get(agentId)?.adapter,
    { maxAttempts, retryMs },
    {
      ready: (agentId) => agentReady(agentId),
      failed: (agentId, _callId, error) => cc.lifecycles.forEach((l) => l.markFailed(agentId, error)),
    },
    log.child({ component: 'wrap-up' }),
  );
  for (const p of vendorProfiles) {
    cc.lifecycles.push(new AgentLifecycle(p, adapter, pool, log.child({ component: 'agents', profile: p.name }), { pendingWrapUp: (id) => cc.wrapUp!.pendingFor(id) }));
  }

  cc.attachSip = async (sipPorts) => {
    const sim = cc.simulator;
    if (!sim) return;
    const target = vendorProfiles[0]!;
    const placer = await CallPlacer.start({ gateway: { host: target.listen.advertisedHost, port: sipPorts[target.name]! }, logger: log.child({ component: 'sandbox-placer' }) });
    cc.placer = placer;
    const placed = new Map<string, ReturnType<CallPlacer['place']>>();
    sim.on('call-started', (call) => {
      const digits = call.phoneNumber.replace(/\D/g, '');
      const caller = digits ? `+${digits.length === 10 ? '1' : ''}${digits}` : undefined;
      const pc = placer.place({ number: call.agentNumber, transactionId: call.transactionId, sessionId: call.sessionId, agentLoginId: call.agentUser, ...(caller ? { caller } : {}), audio: { toneHz: 440 } });
      placed.set(call.transactionId, pc);
      void pc.ended.then(({ by }) => {
        placed.delete(call.transactionId);
        try {
          sim.endCall(call.transactionId, by === 'customer' ? 'customer' : 'agent');
        } catch {
          /* already ended (conference left) */
        }
      });
    });
    // LiveVox drops the virtual agent's leg once it left the conference after a transfer, and
    // when the customer hangs up.
    sim.on('conference-left', (call) => void placed.get(call.transactionId)?.hangup());
    sim.on('call-ended', (call, by) => {
      if (by === 'customer') void placed.get(call.transactionId)?.hangup();
    });
  };

  cc.start = async (hooks) => {
    agentReady = hooks.agentReady;
    await Promise.all(cc.lifecycles.map((l) => l.check()));
    const replayed = cc.wrapUp!.replay();
    if (replayed.length) log.warn({ agents: replayed }, 'replaying wrap-up steps left in the outbox by the previous run');
    for (const l of cc.lifecycles) l.start();
  };

  cc.close = async () => {
    for (const l of cc.lifecycles) l.stop();
    cc.wrapUp?.stop();
    await cc.placer?.close();
    await outbox.close();
    await cc.simulator?.close();
  };
  return cc;
}
