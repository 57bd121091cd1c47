/**
 * The CCaaS "bring your own voice adapter" platform as a plug-in: the gateway is the voice
 * provider. Its adapter endpoints are served on the gateway's HTTP port under `adapterPath`;
 * participant events go through a durable journal to Kafka or a webhook; the provider is
 * registered at the platform once the HTTP side listens. With `ccaas.baseUrl: sandbox` the strict
 * platform simulator runs in-process with its SIP placer, and takes the events on Kafka when
 * brokers are configured, else on its webhook.
 */
import type { Logger } from 'pino';
import type { GatewayConfig, SipProfile } from '../../config/types.js';
import type { ContactCenterPlugin, ContactCenterRuntime, SandboxHandle } from '../plugin.js';
import { SandboxPlacer } from '../sandbox/placer.js';
import { CcaasAdapter } from './adapter.js';
import { EventPublisher, KafkaSink, WebhookSink, type EventSink } from './events.js';
import { ccaasPolicy, idsFromInvite } from './policy.js';
import { provision } from './provision.js';
import { adapterRoutes } from './routes.js';
import type { CcaasConfig } from './settings.js';
import { startCcaasSimulator, type CcaasSimulator } from './simulator/index.js';
import { SoftphoneTokens } from './token.js';
import type { ParticipantEvent } from './wire.js';

export interface CcaasSandbox extends SandboxHandle {
  readonly simulator: CcaasSimulator;
}

/** Without configured numbers the sandbox has one toll-free number of its own. */
const sandboxNumbers = (cfg: CcaasConfig): CcaasConfig['phoneNumbers'] => (cfg.phoneNumbers.length ? cfg.phoneNumbers : [{ id: 'tfn-1', number: '+18005550100' }]);

async function startSandbox(cfg: CcaasConfig, profiles: SipProfile[], log: Logger): Promise<CcaasSandbox> {
  const agents = profiles.flatMap((p) => p.agents.map((a) => ({ userName: a.vendorUser, number: a.number })));
  const phoneNumbers = sandboxNumbers(cfg);
  const simulator = await startCcaasSimulator({
    port: cfg.sandboxPort,
    partnerId: cfg.partnerId,
    clientId: cfg.clientId,
    clientSecret: cfg.clientSecret,
    templateVersion: cfg.templateVersion,
    adapterToken: cfg.adapterToken,
    agents,
    phoneNumbers,
    ...(cfg.events.brokers.length ? { kafka: { brokers: cfg.events.brokers, topic: cfg.events.topic } } : {}),
    logger: log,
  });
  log.info({ url: simulator.url }, 'ccaas sandbox simulator started (POST /__sim/calls {number?, agent?} to place a call)');
  let placer: SandboxPlacer | undefined;
  return {
    vendor: 'ccaas',
    url: simulator.url,
    simulator,
    placeCall: async (agentUser) => ({ ...(await simulator.softphone.call({ agent: agentUser })) }),
    softphoneToken: async (agentUser) => {
      const r = await simulator.softphone.token(agentUser);
      const token = (r.body as { token?: unknown } | null)?.token;
      if (r.status !== 200 || typeof token !== 'string') throw new Error(`the token endpoint answered ${r.status}: ${JSON.stringify(r.body)}`);
      return token;
    },
    attachSip: async (target) => {
      placer = await SandboxPlacer.start({ gateway: target, sipPort: cfg.sandboxSipPort, shape: { userAgent: 'vagw-ccaas-simulator', recordRoute: (self) => [self] }, logger: log });
      simulator.attachPlacer(placer);
    },
    close: async () => {
      await placer?.close();
      await simulator.close();
    },
  };
}

function sinkFor(cfg: CcaasConfig, sandboxUrl: string | undefined, config: GatewayConfig): EventSink {
  if (cfg.events.brokers.length && cfg.events.sink === 'kafka') return new KafkaSink({ brokers: cfg.events.brokers, topic: cfg.events.topic, timeoutMs: cfg.events.timeoutMs, clientId: `vagw-${config.gateway.name}` });
  const url = cfg.events.webhookUrl || (sandboxUrl ? `${sandboxUrl}/__sim/events` : '');
  return new WebhookSink({ url, timeoutMs: cfg.events.timeoutMs });
}

export const ccaasPlugin: ContactCenterPlugin = {
  name: 'ccaas',
  idsFromInvite,
  startSandbox: ({ config, profiles, log }) => startSandbox(config.ccaas, profiles, log.child({ component: 'ccaas-sandbox' })),
  async start({ config, profiles, log, openJournal }): Promise<ContactCenterRuntime> {
    const cfg = config.ccaas;
    if (!openJournal) throw new Error('ccaas: the process wiring gave no journal for participant events');
    const sandbox = cfg.baseUrl === 'sandbox' ? await startSandbox(cfg, profiles, log.child({ component: 'ccaas-sandbox' })) : undefined;
    const clog = log.child({ component: 'ccaas' });
    const journal = await openJournal<ParticipantEvent>('ccaas-events');
    const events = new EventPublisher(journal, sinkFor(cfg, sandbox?.url, config), clog);
    const adapter = new CcaasAdapter(events, clog);
    for (const p of profiles) for (const a of p.agents) adapter.register({ id: a.id, user: a.vendorUser, password: '', serviceId: p.contactCenter.serviceId ?? '', number: a.number });
    const tokens = new SoftphoneTokens(cfg.tokenSecret, cfg.tokenTtlSeconds);
    events.start();
    return {
      adapter,
      policy: ccaasPolicy,
      ...(sandbox ? { sandbox } : {}),
      verifySoftphoneToken: (token) => tokens.verify(token),
      httpRoutes: adapterRoutes({ prefix: cfg.adapterPath, token: cfg.adapterToken, adapter, tokens, log: clog }),
      httpReady: async (port) => {
        const publicBase = cfg.publicBaseUrl || `http://${config.gateway.http.host}:${port}`;
        try {
          const r = await provision(sandbox ? { ...cfg, phoneNumbers: sandboxNumbers(cfg) } : cfg, sandbox?.url ?? cfg.baseUrl, publicBase, config.dataDir);
          clog.info({ providerId: r.providerId, action: r.action, acceptUrl: r.urls['accept_call_url'], numbers: r.numbers.length }, 'ccaas: voice provider registered at the platform');
        } catch (e) {
          clog.error({ err: (e as Error).message }, 'ccaas: voice provider registration failed (run vagw ccaas register once the platform answers)');
        }
      },
      close: async () => {
        await adapter.close();
        await journal.close();
        await sandbox?.close();
      },
    };
  },
};
