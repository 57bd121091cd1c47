/**
 * The agent session protocol as a contact-center plug-in. With `agentSession.url: sandbox` the
 * strict simulator runs in-process and routes its calls through the shared placer to each agent's
 * number (`X-Contact-Id` on the INVITE), so a profile works with no platform account.
 */
import type { Logger } from 'pino';
import type { SipProfile } from '../../config/types.js';
import type { ContactCenterPlugin, ContactCenterRuntime, SandboxHandle } from '../plugin.js';
import { PlacedLegs, SandboxPlacer } from '../sandbox/placer.js';
import { AgentSessionAdapter } from './adapter.js';
import { agentSessionPolicy, idsFromInvite } from './policy.js';
import type { AgentSessionConfig } from './settings.js';
import { startAgentSessionSimulator, type AgentSessionSimulator } from './simulator/index.js';

export interface AgentSessionSandbox extends SandboxHandle {
  readonly simulator: AgentSessionSimulator;
  placer?: SandboxPlacer;
}

async function startSandbox(cfg: AgentSessionConfig, profiles: SipProfile[], log: Logger): Promise<AgentSessionSandbox> {
  const simulator = await startAgentSessionSimulator({
    port: cfg.sandboxPort,
    logger: log,
    agents: profiles.flatMap((p) => p.agents.map((a) => ({ user: a.vendorUser, password: a.vendorPassword ?? p.contactCenter.password ?? 'sandbox', number: a.number }))),
  });
  log.info({ url: simulator.url, admin: simulator.adminUrl }, 'agent-session sandbox simulator started (POST /__sim/calls {agent} to place a call)');
  const legs = new PlacedLegs();
  const sandbox: AgentSessionSandbox = {
    vendor: 'agent-session',
    url: simulator.url,
    simulator,
    placeCall: async (agentUser) => ({ ...simulator.startCall(agentUser) }),
    attachSip: async (target) => {
      const placer = await SandboxPlacer.start({ gateway: target, shape: { userAgent: 'vagw-agent-session-simulator', recordRoute: (self) => [self] }, logger: log });
      sandbox.placer = placer;
      simulator.on('call-started', (call) => {
        const pc = placer.place({ number: call.number, caller: call.caller, headers: { 'X-Contact-Id': call.contactId }, audio: { toneHz: 440 } });
        legs.track(call.contactId, pc, ({ by, reason, referTo }) => {
          if (reason === 'transferred' && referTo) simulator.state.calls.get(call.contactId)!.transferredTo = referTo;
          simulator.endCall(call.contactId, by === 'customer' ? 'customer' : 'agent');
        });
      });
      // The platform releases the leg when the customer hangs up, and when it logs the agent out.
      simulator.on('call-ended', (call) => legs.hangup(call.contactId));
    },
    close: async () => {
      await sandbox.placer?.close();
      await simulator.close();
    },
  };
  return sandbox;
}

export const agentSessionPlugin: ContactCenterPlugin = {
  name: 'agent-session',
  idsFromInvite,
  startSandbox: ({ config, profiles, log }) => startSandbox(config.agentSession, profiles, log.child({ component: 'agent-session-sandbox' })),
  async start({ config, profiles, log }): Promise<ContactCenterRuntime> {
    const cfg = config.agentSession;
    const logger = log.child({ component: 'agent-session' });
    const sandbox = cfg.url === 'sandbox' ? await startSandbox(cfg, profiles, log.child({ component: 'agent-session-sandbox' })) : undefined;
    const adapter = new AgentSessionAdapter({ ...cfg, url: sandbox?.url ?? cfg.url }, logger);
    return {
      adapter,
      policy: agentSessionPolicy,
      ...(sandbox ? { sandbox } : {}),
      close: async () => {
        adapter.close();
        await sandbox?.close();
      },
    };
  },
};
