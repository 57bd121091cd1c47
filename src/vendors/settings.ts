/**
 * Each platform's gateway.yaml section, by the name `contactCenter.vendor` gives it. The config
 * loader validates them with the rest of the file (one pass, every problem with its file and key),
 * so this file and the `settings.ts` of each platform folder are the only parts of src/vendors the
 * config layer imports (scripts/check-imports.mjs enforces it): zod schemas, nothing that runs.
 */
import { AgentSessionSettings, type AgentSessionConfig } from './agent-session/settings.js';
import { CcaasSettings, type CcaasConfig } from './ccaas/settings.js';
import { HuaweiAiccSettings, type HuaweiAiccConfig } from './huawei-aicc/settings.js';
import { LiveVoxSettings, type LiveVoxConfig } from './livevox/settings.js';

/** Section name in gateway.yaml -> schema; the platform's name for `contactCenter.vendor` is in NAMES. */
export const VENDOR_SETTINGS = { livevox: LiveVoxSettings, agentSession: AgentSessionSettings, huaweiAicc: HuaweiAiccSettings, ccaas: CcaasSettings } as const;

/** `contactCenter.vendor` value of each section. */
const NAMES = { livevox: 'livevox', agentSession: 'agent-session', huaweiAicc: 'huawei-aicc', ccaas: 'ccaas' } as const;

export type VendorName = (typeof NAMES)[keyof typeof NAMES];

export const VENDOR_NAMES = Object.values(NAMES) as [VendorName, ...VendorName[]];

/** The gateway.yaml sections (one per platform). */
export const VENDOR_SECTIONS = Object.keys(VENDOR_SETTINGS) as (keyof typeof VENDOR_SETTINGS)[];

/** The validated sections, as GatewayConfig carries them. */
export interface VendorSettings {
  livevox: LiveVoxConfig;
  agentSession: AgentSessionConfig;
  huaweiAicc: HuaweiAiccConfig;
  ccaas: CcaasConfig;
}
