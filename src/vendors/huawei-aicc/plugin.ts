/**
 * Huawei AICC / CEC as a contact-center plug-in. With `huaweiAicc.baseUrl: sandbox` the strict
 * simulator runs in-process: its CC-Gateway interfaces, and its SIP registrar on the port of the
 * call placer that rings the agents' registered phones, so a profile works with no Huawei tenant.
 */
import type { Logger } from 'pino';
import type { SipProfile } from '../../config/types.js';
import type { ContactCenterPlugin, ContactCenterRuntime, SandboxHandle } from '../plugin.js';
import { SandboxPlacer } from '../sandbox/placer.js';
import { HuaweiAiccAdapter } from './adapter.js';
import { huaweiAiccPolicy, idsFromInvite } from './policy.js';
import type { HuaweiAiccConfig } from './settings.js';
import { startHuaweiSimulator, type HuaweiSimulator } from './simulator/index.js';

export interface HuaweiAiccSandbox extends SandboxHandle {
  readonly simulator: HuaweiSimulator;
  placer?: SandboxPlacer;
  /** The registrar's (and placer's) SIP port, once attached. */
  readonly sipPort: number | undefined;
}

async function startSandbox(cfg: HuaweiAiccConfig, profiles: SipProfile[], log: Logger): Promise<HuaweiAiccSandbox> {
  // Each profile's agents are bound to the skill queue its contactCenter.serviceId names.
  const skills = [...cfg.sandboxSkills];
  for (const p of profiles) {
    const id = p.contactCenter.serviceId ?? '';
    if (id && !skills.some((s) => s.id === id)) skills.push({ id, name: id.slice(0, 20), wrapUpSeconds: 5 });
  }
  const agents = profiles.flatMap((p) => p.agents.map((a) => ({ agentId: a.vendorUser, password: a.vendorPassword ?? p.contactCenter.password ?? 'sandbox', skills: [p.contactCenter.serviceId ?? ''] })));
  const phones = new Map(profiles.flatMap((p) => p.agents.map((a) => [a.number, cfg.phonePassword] as [string, string])));
  const simulator = await startHuaweiSimulator({ port: cfg.sandboxPort, agents, phones, skills, heartbeatMs: cfg.sandboxHeartbeatSeconds * 1000, pollHoldMs: cfg.pollHoldMs, logger: log });
  log.info({ url: simulator.url }, 'huawei-aicc sandbox simulator started (POST /__sim/calls {skill|agent} to place a call)');
  const sandbox: HuaweiAiccSandbox = {
    vendor: 'huawei-aicc',
    url: simulator.url,
    simulator,
    get sipPort() {
      return sandbox.placer?.sipPort;
    },
    placeCall: async (agentUser) => ({ ...simulator.calls.route({ agent: agentUser }) }),
    attachSip: async (target) => {
      const placer = await SandboxPlacer.start({ gateway: target, sipPort: cfg.sandboxSipPort, shape: { userAgent: 'vagw-huawei-aicc-simulator', recordRoute: (self) => [self] }, logger: log });
      sandbox.placer = placer;
      simulator.attachPlacer(placer);
      log.info({ registrar: `127.0.0.1:${placer.sipPort}` }, 'huawei-aicc sandbox: SIP registrar of the softphone numbers listening');
    },
    close: async () => {
      await sandbox.placer?.close();
      await simulator.close();
    },
  };
  return sandbox;
}

export const huaweiAiccPlugin: ContactCenterPlugin = {
  name: 'huawei-aicc',
  idsFromInvite,
  startSandbox: ({ config, profiles, log }) => startSandbox(config.huaweiAicc, profiles, log.child({ component: 'huawei-aicc-sandbox' })),
  async start({ config, profiles, log }): Promise<ContactCenterRuntime> {
    const cfg = config.huaweiAicc;
    const sandbox = cfg.baseUrl === 'sandbox' ? await startSandbox(cfg, profiles, log.child({ component: 'huawei-aicc-sandbox' })) : undefined;
    const adapter = new HuaweiAiccAdapter({ ...cfg, baseUrl: sandbox?.url ?? cfg.baseUrl }, log.child({ component: 'huawei-aicc' }), () => (sandbox ? `127.0.0.1:${sandbox.sipPort ?? 0}` : cfg.registrar));
    const profileOf = new Map(profiles.flatMap((p) => p.agents.map((a) => [a.id, p.name] as [string, string])));
    return {
      adapter,
      policy: huaweiAiccPolicy,
      ...(sandbox ? { sandbox } : {}),
      sipReady: async (sip) => adapter.attachSip((agentId) => sip[profileOf.get(agentId) ?? '']),
      close: async () => {
        await adapter.close();
        await sandbox?.close();
      },
    };
  },
};
