/**
 * Each platform's gateway.yaml section, by the name `contactCenter.vendor` gives it. The config
 * loader validates them with the rest of the file (one pass, every problem with its file and key),
 * so this file and the `settings.ts` of each platform folder are the only parts of src/vendors the
 * config layer imports (scripts/check-imports.mjs enforces it): zod schemas, nothing that runs.
 */
import { LiveVoxSettings, type LiveVoxConfig } from './livevox/settings.js';

export const VENDOR_SETTINGS = { livevox: LiveVoxSettings } as const;

export type VendorName = keyof typeof VENDOR_SETTINGS;

export const VENDOR_NAMES = Object.keys(VENDOR_SETTINGS) as [VendorName, ...VendorName[]];

/** The validated sections, as GatewayConfig carries them. */
export interface VendorSettings {
  livevox: LiveVoxConfig;
}
