/**
 * The strict Huawei AICC / CEC simulator: the sandbox of `contactCenter.vendor: huawei-aicc` and
 * the test double of its adapter. The CC-Gateway interfaces and the event poll (./server.ts over
 * ./state.ts), the voice side with skill queues and wrap-up time (./calls.ts), and the SIP
 * registrar of the softphone numbers (./phones.ts) on the call placer's SIP port: the platform
 * rings a phone at the Contact it registered, from the address the phone registered with.
 */
import pino, { type Logger } from 'pino';
import { PlacedLegs, type SandboxPlacer } from '../../sandbox/placer.js';
import { CcCalls, type SimSkill, type SimVoiceCall } from './calls.js';
import { PhoneRegistrar } from './phones.js';
import { startCcSimServer, type CcSimServer } from './server.js';
import { CcGatewayState, HEARTBEAT_MS, type SimAgentConfig } from './state.js';

export type { SimSkill, SimVoiceCall, SimAgentConfig };

export interface HuaweiSimulatorOptions {
  /** HTTP port of the CC-Gateway interfaces (0: ephemeral). Loopback only. */
  port?: number;
  agents: SimAgentConfig[];
  /** Softphone number -> registration password. */
  phones: Map<string, string>;
  skills: SimSkill[];
  pollHoldMs?: number;
  heartbeatMs?: number;
  logger?: Logger;
}

export interface HuaweiSimulator {
  /** http://127.0.0.1:<port> (the interfaces under /agentgateway/resource, the admin API under /__sim). */
  readonly url: string;
  readonly state: CcGatewayState;
  readonly calls: CcCalls;
  readonly phones: PhoneRegistrar;
  readonly server: CcSimServer;
  /** The placer that rings the phones; its SIP port is the registrar's. */
  attachPlacer(placer: SandboxPlacer): void;
  close(): Promise<void>;
}

export async function startHuaweiSimulator(o: HuaweiSimulatorOptions): Promise<HuaweiSimulator> {
  const log = (o.logger ?? pino({ level: 'silent' })).child({ component: 'huawei-aicc-sandbox' });
  const state = new CcGatewayState(o.agents, () => Date.now(), o.heartbeatMs ?? HEARTBEAT_MS);
  const phones = new PhoneRegistrar({ phones: o.phones, realm: 'huawei-aicc-sandbox', now: () => Date.now(), log });
  let placer: SandboxPlacer | undefined;
  const legs = new PlacedLegs();
  const calls: CcCalls = new CcCalls(state, phones, o.skills, {
    ring: (call: SimVoiceCall) => {
      if (!placer || placer.isClosed) {
        log.warn({ callid: call.callid }, 'huawei-aicc sim: no placer to ring the phone');
        queueMicrotask(() => calls.legEnded(call.callid, 'failed'));
        return;
      }
      const leg = placer.place({ number: call.phonenum, contact: call.contact, caller: call.caller.replace(/[^0-9+]/g, '') || '+13125550100', audio: { toneHz: 440 } });
      void leg.answered.then(
        () => calls.legAnswered(call.callid),
        () => undefined,
      );
      legs.track(call.callid, leg, (end) => calls.legEnded(call.callid, end.by === 'gateway' ? 'phone' : end.by === 'customer' ? 'customer' : 'failed'));
    },
    hangup: (call) => legs.hangup(call.callid),
  });
  const server = await startCcSimServer(state, { port: o.port ?? 0, log, calls, phones, ...(o.pollHoldMs ? { pollHoldMs: o.pollHoldMs } : {}) });
  return {
    url: server.url,
    state,
    calls,
    phones,
    server,
    attachPlacer: (p) => {
      placer = p;
      p.setRegistrar(phones);
    },
    close: async () => {
      calls.close();
      await server.close();
    },
  };
}
