/**
 * LiveVox as a contact-center plug-in: its REST adapter, its policy and, with
 * `livevox.baseUrl: sandbox`, the strict simulator with its call placer in-process, so the whole
 * flow works with no LiveVox account (POST /__sim/calls on the simulator places a call).
 */
import type { ContactCenterPlugin, ContactCenterRuntime, SandboxHandle } from '../plugin.js';
import type { SipProfile } from '../../config/types.js';
import type { Logger } from 'pino';
import { LiveVoxAdapter } from './adapter.js';
import { LiveVoxClient } from './client.js';
import { idsFromInvite, livevoxPolicy } from './policy.js';
import { startLiveVoxSimulator, type LiveVoxSimulator } from './simulator/index.js';
import { CallPlacer } from './simulator/placer.js';
import { PlacedLegs } from '../sandbox/placer.js';
import type { LiveVoxConfig } from './settings.js';

/** The LiveVox sandbox: the simulator, and the placer that turns its calls into INVITEs. */
export interface LiveVoxSandbox extends SandboxHandle {
  readonly simulator: LiveVoxSimulator;
  placer?: CallPlacer;
}

async function startSandbox(lv: LiveVoxConfig, profiles: SipProfile[], log: Logger): Promise<LiveVoxSandbox> {
  const simulator = await startLiveVoxSimulator({
    port: lv.sandboxPort,
    accessToken: lv.accessToken,
    clientName: lv.clientName,
    sessionIdleMs: lv.sandboxSessionIdleMinutes * 60_000,
    keepCalls: lv.sandboxKeepCalls,
    logger: log.child({ component: 'livevox-sandbox' }),
    agents: profiles.flatMap((p) => p.agents.map((a) => ({ user: a.vendorUser, password: a.vendorPassword ?? p.contactCenter.password ?? 'sandbox' }))),
    services: [...new Set(profiles.map((p) => p.contactCenter.serviceId!))].map((id) => {
      const tc = profiles.find((p) => p.contactCenter.serviceId === id)!.contactCenter.termCodes;
      return {
        id,
        termCodes: Object.values(tc).map((name, i) => ({ id: String(1000 + i), name })),
        phonebooks: [{ id: '1', name: 'Human Agents', contacts: [{ id: '10', name: 'Tier 1', phoneNumber: '+15550100100' }] }],
      };
    }),
  });
  log.info({ url: simulator.url }, 'LiveVox sandbox simulator started (POST /__sim/calls to place a call)');
  const sandbox: LiveVoxSandbox = {
    vendor: 'livevox',
    url: simulator.url,
    simulator,
    placeCall: async (agentUser) => ({ ...simulator.startCall(agentUser, {}) }),
    attachSip: async (target) => {
      const placer = await CallPlacer.start({ gateway: target, logger: log.child({ component: 'sandbox-placer' }) });
      sandbox.placer = placer;
      const legs = new PlacedLegs();
      // The ACD's customers talk from the moment the gateway answers, not from routing.
      simulator.talkFromAnswer();
      simulator.on('call-started', (call) => {
        const digits = call.phoneNumber.replace(/\D/g, '');
        const caller = digits ? `+${digits.length === 10 ? '1' : ''}${digits}` : undefined;
        const pc = placer.place({ number: call.agentNumber, transactionId: call.transactionId, sessionId: call.sessionId, agentLoginId: call.agentUser, ...(caller ? { caller } : {}), audio: { toneHz: 440 } });
        pc.answered.then(
          () => simulator.answered(call.transactionId),
          () => undefined, // a refused or failed leg ends the call below
        );
        legs.track(call.transactionId, pc, ({ by }) => {
          try {
            simulator.endCall(call.transactionId, by === 'customer' ? 'customer' : 'agent');
          } catch {
            /* already ended (conference left) */
          }
        });
      });
      // LiveVox drops the virtual agent's leg once it left the conference after a transfer, and
      // when the customer hangs up.
      simulator.on('conference-left', (call) => legs.hangup(call.transactionId));
      simulator.on('call-ended', (call, by) => {
        if (by === 'customer') legs.hangup(call.transactionId);
      });
    },
    close: async () => {
      await sandbox.placer?.close();
      await simulator.close();
    },
  };
  return sandbox;
}

export const livevoxPlugin: ContactCenterPlugin = {
  name: 'livevox',
  idsFromInvite,
  startSandbox: ({ config, profiles, log }) => startSandbox(config.livevox, profiles, log),
  async start({ config, profiles, log }): Promise<ContactCenterRuntime> {
    const lv = config.livevox;
    const sandbox = lv.baseUrl === 'sandbox' ? await startSandbox(lv, profiles, log) : undefined;
    const logger = log.child({ component: 'livevox' });
    const client = new LiveVoxClient({ baseUrl: sandbox?.url ?? lv.baseUrl, accessToken: lv.accessToken, clientName: lv.clientName, timeoutMs: lv.timeoutMs, retries: lv.retries, logger });
    return {
      adapter: new LiveVoxAdapter({ client, logger }),
      policy: livevoxPolicy,
      ...(sandbox ? { sandbox } : {}),
      close: async () => sandbox?.close(),
    };
  },
};
