/** Turns an engine reference (builtin, URL or name) into what the media plane needs. */
import type { EngineConfig, GatewayConfig } from './types.js';

export type EngineSpec =
  | { kind: 'builtin'; name: 'echo' | 'demo' }
  | ({ kind: 'ws'; name: string } & EngineConfig);

export function resolveEngine(config: Pick<GatewayConfig, 'engines'>, ref: string): EngineSpec {
  if (ref === 'builtin:echo' || ref === 'builtin:demo') return { kind: 'builtin', name: ref === 'builtin:echo' ? 'echo' : 'demo' };
  const named = config.engines[ref];
  if (named) return { kind: 'ws', name: ref, ...named };
  if (/^wss?:\/\//.test(ref)) return { kind: 'ws', name: ref, url: ref, protocol: 'twilio', connectTimeoutMs: 3000, tlsRejectUnauthorized: true };
  // loadConfig rejects unknown names, so this is a programming error, not bad input.
  throw new Error(`unknown engine reference '${ref}'`);
}
