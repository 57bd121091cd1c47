/**
 * The `huaweiAicc:` section of gateway.yaml (read by the config loader through
 * src/vendors/settings.ts). Each agent's `vendorUser` is its agent id (workNo, 101-999999),
 * `vendorPassword` (or the profile's contactCenter.password) its sign-in password, and `number`
 * its softphone number: the phone the gateway registers for it and the number the platform rings.
 */
import { z } from 'zod';
import { intIn, mustBe, obj, stringWhere } from '../../config/zod-helpers.js';

const hostPort = (s: string): boolean => /^[A-Za-z0-9.-]+:[0-9]{1,5}$/.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535;

const TransferTarget = obj({
  // voicecall/transfer device types: 1 skill queue, 2 agent, 3 IVR, 4 access code, 5 external number.
  devicetype: intIn(1, 5),
  address: z.string({ error: mustBe('a string') }).min(1).max(24),
  mode: intIn(0, 4).default(0),
});

const SandboxSkill = obj({
  id: z.string({ error: mustBe('a string') }).min(1).max(20),
  name: z.string({ error: mustBe('a string') }).min(1).max(20),
  // The skill queue's "Duration (s) in Arranging State": 0-3600, default 5.
  wrapUpSeconds: intIn(0, 3600).default(5),
});

export const HuaweiAiccSettings = obj({
  // 'sandbox' runs the strict CC-Gateway simulator (and its SIP registrar) inside the gateway;
  // otherwise https://<host>:8043 (the CC-Gateway or its NSLB).
  baseUrl: stringWhere("'sandbox' or an https:// (or http://) URL", (s) => s === 'sandbox' || /^https?:\/\/[^\s/]+/.test(s)).default('sandbox'),
  timeoutMs: intIn(100, 60_000).default(5000),
  retries: intIn(0, 10).default(3),
  // How long the platform holds an empty event poll (about 10 s).
  pollHoldMs: intIn(1000, 60_000).default(10_000),
  // The platform's SIP registrar for the softphone numbers (host:port); with baseUrl 'sandbox', the sandbox's.
  registrar: stringWhere('host:port', (s) => s === '' || hostPort(s)).default(''),
  // The SIP domain of the phones' addresses of record (default: the registrar's host).
  sipDomain: z.string({ error: mustBe('a string') }).default(''),
  // The softphone numbers' registration password (the platform sets one per number; ${ENV} works).
  phonePassword: z.string({ error: mustBe('a string') }).min(1).max(64).default('sandbox'),
  registerExpires: intIn(60, 86_400).default(3600),
  // Sign-in options: the platform answers offered calls on the phone by itself; after a call the
  // agent stays in wrap-up until the gateway ends it (false), so no call comes before the wrap-up is done.
  autoAnswer: z.boolean({ error: mustBe('true or false') }).default(true),
  autoEnterIdle: z.boolean({ error: mustBe('true or false') }).default(false),
  // How long callIds() waits for AgentEvent_Ringing when the INVITE arrives first.
  ringingWaitMs: intIn(0, 10_000).default(1500),
  // Transfer targets by name (an engine's or the API's `contact`).
  transferTargets: z.record(z.string(), TransferTarget).default({}),
  // Sandbox only: HTTP and SIP ports (0 = any free port), skill queues, heartbeat limit.
  sandboxPort: intIn(0, 65535).default(0),
  sandboxSipPort: intIn(0, 65535).default(0),
  sandboxSkills: z.array(SandboxSkill).min(1).default([{ id: '1', name: 'VirtualAgents', wrapUpSeconds: 5 }]),
  sandboxHeartbeatSeconds: intIn(5, 600).default(120),
}).superRefine((v, ctx) => {
  if (v.baseUrl !== 'sandbox' && v.registrar === '') ctx.addIssue({ code: 'custom', path: ['registrar'], message: "is required with a real baseUrl: the platform's SIP registrar for the softphone numbers (host:port)" });
  if (v.baseUrl !== 'sandbox' && v.phonePassword === 'sandbox') ctx.addIssue({ code: 'custom', path: ['phonePassword'], message: "must be set with a real baseUrl: the softphone numbers' registration password (e.g. ${HUAWEI_PHONE_PASSWORD})" });
});

export interface HuaweiTransferTarget {
  devicetype: 1 | 2 | 3 | 4 | 5;
  address: string;
  mode: number;
}

export interface HuaweiAiccConfig {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  pollHoldMs: number;
  registrar: string;
  sipDomain: string;
  phonePassword: string;
  registerExpires: number;
  autoAnswer: boolean;
  autoEnterIdle: boolean;
  ringingWaitMs: number;
  transferTargets: Record<string, HuaweiTransferTarget>;
  sandboxPort: number;
  sandboxSipPort: number;
  sandboxSkills: { id: string; name: string; wrapUpSeconds: number }[];
  sandboxHeartbeatSeconds: number;
}
