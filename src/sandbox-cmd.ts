/**
 * `vagw sandbox [--config <file>]`: the sandbox contact centers of a configuration (each
 * platform's strict simulator with its SIP call placer) in a process of their own. The gateway
 * is then configured with the simulator's URL as its platform (`livevox.baseUrl:
 * http://127.0.0.1:<sandboxPort>`): the gateway process holds only the gateway, as in production,
 * and a load test measures it alone. Each simulator calls the SIP address of the first profile
 * that names its platform, which must therefore be a fixed port.
 */
import type { Logger } from 'pino';
import type { GatewayConfig, SipProfile } from './config/types.js';
import type { SandboxHandle } from './vendors/plugin.js';
import { pluginFor } from './vendors/registry.js';

export interface RunningSandboxes {
  sandboxes: { vendor: string; url: string; gateway: string }[];
  close(): Promise<void>;
}

export async function startSandboxes(config: GatewayConfig, log: Logger): Promise<RunningSandboxes> {
  const byVendor = new Map<string, SipProfile[]>();
  for (const p of config.profiles) {
    if (p.contactCenter.vendor === 'none') continue;
    byVendor.set(p.contactCenter.vendor, [...(byVendor.get(p.contactCenter.vendor) ?? []), p]);
  }
  const handles: SandboxHandle[] = [];
  const out: RunningSandboxes['sandboxes'] = [];
  const close = async (): Promise<void> => {
    await Promise.all(handles.map((h) => h.close()));
  };
  try {
    for (const [vendor, profiles] of byVendor) {
      const plugin = pluginFor(vendor);
      if (!plugin?.startSandbox) throw new Error(`contactCenter.vendor '${vendor}' has no sandbox`);
      const target = profiles[0]!;
      if (target.listen.port === 0) throw new Error(`profile ${target.name}: listen.port is 0; the ${vendor} sandbox must know the gateway's SIP port`);
      const h = await plugin.startSandbox({ config, profiles, log });
      handles.push(h);
      await h.attachSip({ host: target.listen.advertisedHost, port: target.listen.port });
      out.push({ vendor, url: h.url, gateway: `${target.listen.advertisedHost}:${target.listen.port}` });
    }
  } catch (e) {
    await close();
    throw e;
  }
  if (out.length === 0) throw new Error('no profile names a contact center: there is no sandbox to run');
  return { sandboxes: out, close };
}
