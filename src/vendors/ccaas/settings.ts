/**
 * The `ccaas:` section of gateway.yaml: the gateway as a CCaaS platform's voice provider ("bring
 * your own voice adapter"). `baseUrl` is the platform's partner API (provisioning); the platform
 * calls the gateway's adapter endpoints under `adapterPath` with `adapterToken`; participant
 * events go to Kafka (`events.brokers`) or to a webhook. Each agent's `vendorUser` is its
 * `agentLogonName` at the platform.
 */
import { z } from 'zod';
import { intIn, mustBe, obj, stringWhere } from '../../config/zod-helpers.js';

const url = (what: string) => stringWhere(`${what}: an http:// or https:// URL`, (s) => /^https?:\/\/[^\s/]+/.test(s));

export const CcaasSettings = obj({
  // 'sandbox' runs the strict platform simulator inside the gateway; otherwise the partner API's base URL.
  baseUrl: stringWhere("'sandbox' or an http(s):// URL", (s) => s === 'sandbox' || /^https?:\/\/[^\s/]+/.test(s)).default('sandbox'),
  partnerId: z.string({ error: mustBe('a string') }).min(1).max(100).default('sandbox-partner'),
  clientId: z.string({ error: mustBe('a string') }).min(1).max(200).default('sandbox-client'),
  clientSecret: z.string({ error: mustBe('a string') }).min(1).max(500).default('sandbox-secret'),
  templateVersion: z.string({ error: mustBe('a string') }).min(1).max(50).default('1'),
  // The voice provider's unique name at the platform.
  providerName: z.string({ error: mustBe('a string') }).min(1).max(200).default('vagw'),
  // The gateway's base URL as the platform reaches it (the adapter URLs are built from it); '' = http://<gateway.http host:port>.
  publicBaseUrl: z.union([z.literal(''), url('publicBaseUrl')]).default(''),
  adapterPath: stringWhere('a path starting with /', (s) => /^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/.test(s)).default('/ccaas'),
  // The credential the platform sends to the adapter endpoints (Authorization: Bearer <token>).
  adapterToken: z.string({ error: mustBe('a string') }).min(16, 'must be at least 16 characters').max(500).default('sandbox-adapter-token'),
  // Toll-free numbers to associate with the provider: the platform's phone number id and the number.
  phoneNumbers: z.array(obj({ id: z.string({ error: mustBe('a string') }).min(1).max(100), number: z.string({ error: mustBe('a string') }).min(1).max(32) })).default([]),
  events: obj({
    sink: z.enum(['kafka', 'webhook'], { error: mustBe("'kafka' or 'webhook'") }).default('kafka'),
    // host:port of the brokers; with the sandbox and no brokers, events go to the sandbox's webhook.
    brokers: z.array(stringWhere('host:port', (s) => /^[A-Za-z0-9.-]+:[0-9]{1,5}$/.test(s))).default([]),
    topic: stringWhere('a Kafka topic name', (s) => /^[A-Za-z0-9._-]{1,249}$/.test(s)).default('participant-events'),
    webhookUrl: z.union([z.literal(''), url('webhookUrl')]).default(''),
    timeoutMs: intIn(100, 60_000).default(5000),
  }).prefault({}),
  // The softphone tokens (access token endpoint): HMAC key and lifetime.
  tokenSecret: z.string({ error: mustBe('a string') }).min(32, 'must be at least 32 characters').max(500).default('sandbox-token-secret-sandbox-token-secret'),
  tokenTtlSeconds: intIn(30, 86_400).default(300),
  // Sandbox only: the simulator's HTTP port (0 = any free port) and its call placer's SIP port.
  sandboxPort: intIn(0, 65535).default(0),
  sandboxSipPort: intIn(0, 65535).default(0),
}).superRefine((v, ctx) => {
  if (v.baseUrl === 'sandbox') return;
  if (v.events.sink === 'kafka' && v.events.brokers.length === 0) ctx.addIssue({ code: 'custom', path: ['events', 'brokers'], message: 'is required with a real baseUrl and events.sink kafka (host:port of the brokers)' });
  if (v.events.sink === 'webhook' && v.events.webhookUrl === '') ctx.addIssue({ code: 'custom', path: ['events', 'webhookUrl'], message: 'is required with events.sink webhook' });
  if (v.adapterToken === 'sandbox-adapter-token') ctx.addIssue({ code: 'custom', path: ['adapterToken'], message: 'must be set with a real baseUrl (e.g. ${CCAAS_ADAPTER_TOKEN})' });
  if (v.tokenSecret.startsWith('sandbox-token-secret')) ctx.addIssue({ code: 'custom', path: ['tokenSecret'], message: 'must be set with a real baseUrl (e.g. ${CCAAS_TOKEN_SECRET})' });
});

export interface CcaasConfig {
  baseUrl: string;
  partnerId: string;
  clientId: string;
  clientSecret: string;
  templateVersion: string;
  providerName: string;
  publicBaseUrl: string;
  adapterPath: string;
  adapterToken: string;
  phoneNumbers: { id: string; number: string }[];
  events: { sink: 'kafka' | 'webhook'; brokers: string[]; topic: string; webhookUrl: string; timeoutMs: number };
  tokenSecret: string;
  tokenTtlSeconds: number;
  sandboxPort: number;
  sandboxSipPort: number;
}
