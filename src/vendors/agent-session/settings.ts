/**
 * The `agentSession:` section of gateway.yaml (read by the config loader through
 * src/vendors/settings.ts). Credentials are each agent's `vendorUser` / `vendorPassword` (or the
 * profile's contactCenter.password).
 */
import { z } from 'zod';
import { intIn, mustBe, obj, stringWhere } from '../../config/zod-helpers.js';

export const AgentSessionSettings = obj({
  // 'sandbox' runs the strict simulator inside the gateway; otherwise the ws:// or wss:// URL.
  url: stringWhere("'sandbox' or a ws:// or wss:// URL", (s) => s === 'sandbox' || /^wss?:\/\/[^\s/]+/.test(s)).default('sandbox'),
  timeoutMs: intIn(100, 60_000).default(5000),
  tlsRejectUnauthorized: z.boolean({ error: mustBe('true or false') }).default(true),
  // The queue channel.activate joins when the profile gives no contactCenter.serviceId.
  queue: z.string({ error: mustBe('a string') }).default(''),
  // The platform's not-ready reason code for each reason the gateway has to set one.
  notReadyReasons: z.record(z.string(), z.string().min(1)).default({ operator: 'break', 'keep-alive': 'keep-alive', closed: 'closed', 'wrap-up failed': 'break' }),
  logoutReason: z.string().default('1'),
  sandboxPort: intIn(0, 65535).default(0),
});

export interface AgentSessionConfig {
  url: string;
  timeoutMs: number;
  tlsRejectUnauthorized: boolean;
  queue: string;
  notReadyReasons: Record<string, string>;
  logoutReason: string;
  sandboxPort: number;
}
