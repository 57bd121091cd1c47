/** Starts a gateway in-process from a fixture config (logs go to stderr only when VAGW_TEST_LOG is set). */
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { startGateway, type RunningGateway } from '../../src/server.js';
import type { GatewayConfig } from '../../src/config/types.js';
import type { LiveVoxSandbox } from '../../src/vendors/livevox/plugin.js';
import type { AgentSessionSandbox } from '../../src/vendors/agent-session/plugin.js';
import type { HuaweiAiccSandbox } from '../../src/vendors/huawei-aicc/plugin.js';
import type { CcaasSandbox } from '../../src/vendors/ccaas/plugin.js';

export const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');

export async function startFixture(file: string, patch?: (c: GatewayConfig) => void): Promise<RunningGateway> {
  const config = loadConfig(path.join(FIXTURES, file));
  patch?.(config);
  const log = createLogger(config.gateway.logLevel, config.gateway.name, process.stderr as never);
  return startGateway(config, log);
}

/** The LiveVox sandbox (simulator + call placer) of a gateway started on a sandbox profile. */
export function livevoxSandbox(gw: RunningGateway): LiveVoxSandbox {
  const s = gw.contactCenters.sandboxes.get('livevox');
  if (!s) throw new Error('this gateway runs no LiveVox sandbox');
  return s as LiveVoxSandbox;
}

/** The Huawei AICC sandbox (simulator, registrar and placer) of a gateway started on such a profile. */
export function huaweiSandbox(gw: RunningGateway): HuaweiAiccSandbox {
  const s = gw.contactCenters.sandboxes.get('huawei-aicc');
  if (!s) throw new Error('this gateway runs no Huawei AICC sandbox');
  return s as HuaweiAiccSandbox;
}

/** The CCaaS platform sandbox (simulator + placer) of a gateway started on a ccaas profile. */
export function ccaasSandbox(gw: RunningGateway): CcaasSandbox {
  const s = gw.contactCenters.sandboxes.get('ccaas');
  if (!s) throw new Error('this gateway runs no CCaaS sandbox');
  return s as CcaasSandbox;
}

/** The agent-session sandbox (simulator + placer) of a gateway started on such a profile. */
export function agentSessionSandbox(gw: RunningGateway): AgentSessionSandbox {
  const s = gw.contactCenters.sandboxes.get('agent-session');
  if (!s) throw new Error('this gateway runs no agent-session sandbox');
  return s as AgentSessionSandbox;
}
