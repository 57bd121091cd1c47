/**
 * The `livevox:` section of gateway.yaml. Declared here, with the platform, and read by the config
 * loader through src/vendors/settings.ts (the one import the config layer may make of vendors).
 */
import { z } from 'zod';
import { intIn, mustBe, obj, stringWhere } from '../../config/zod-helpers.js';

export const LiveVoxSettings = obj({
  // 'sandbox' runs the strict LiveVox simulator inside the gateway; otherwise the API base URL.
  baseUrl: stringWhere("'sandbox' or an https:// (or http://) URL", (s) => s === 'sandbox' || /^https?:\/\/[^\s/]+/.test(s)).default('sandbox'),
  accessToken: z.string({ error: mustBe('a string') }).min(1).default('sandbox-access-token'),
  clientName: z.string({ error: mustBe('a string') }).min(1).default('sandbox'),
  timeoutMs: intIn(100, 60_000).default(5000),
  retries: intIn(0, 10).default(3),
  // Sandbox only: simulator HTTP port (0 = any free port), session idle expiry, and how many call
  // records it keeps (a load test that reads every call back needs more than the default).
  sandboxPort: intIn(0, 65535).default(0),
  sandboxSessionIdleMinutes: intIn(1, 1440).default(120),
  sandboxKeepCalls: intIn(100, 1_000_000).default(10_000),
});

export interface LiveVoxConfig {
  /** 'sandbox' = the embedded strict simulator. */
  baseUrl: string;
  accessToken: string;
  clientName: string;
  timeoutMs: number;
  retries: number;
  sandboxPort: number;
  sandboxSessionIdleMinutes: number;
  sandboxKeepCalls: number;
}
