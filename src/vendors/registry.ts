/**
 * The contact-center platforms this build knows, by the name `contactCenter.vendor` gives. A new
 * platform is one folder under src/vendors/ and one line here (docs/decisions.md, "Contact centers
 * as plug-ins").
 */
import type { ContactCenterPlugin } from './plugin.js';
import type { VendorCallIds } from './types.js';
import { agentSessionPlugin } from './agent-session/plugin.js';
import { ccaasPlugin } from './ccaas/plugin.js';
import { huaweiAiccPlugin } from './huawei-aicc/plugin.js';
import { livevoxPlugin } from './livevox/plugin.js';

const PLUGINS: readonly ContactCenterPlugin[] = [livevoxPlugin, agentSessionPlugin, huaweiAiccPlugin, ccaasPlugin];

export function pluginFor(name: string): ContactCenterPlugin | undefined {
  return PLUGINS.find((p) => p.name === name);
}

export function pluginNames(): string[] {
  return PLUGINS.map((p) => p.name);
}

/** Every known platform's call ids an INVITE carries (profiles with no contact center). */
export function idsFromAnyInvite(header: (name: string) => string | undefined): VendorCallIds {
  return Object.assign({}, ...PLUGINS.map((p) => p.idsFromInvite?.(header) ?? {})) as VendorCallIds;
}
