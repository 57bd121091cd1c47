/** Turns an engine reference (builtin, WebRTC, URL or name) into what the media plane needs. */
import type { EngineConfig, GatewayConfig, SipProfile, WebRtcCodec } from './types.js';

export type EngineSpec =
  | { kind: 'builtin'; name: 'echo' | 'demo' }
  /** 'sip': the agent's SIP.js registration gets an INVITE; 'attach': an engine claimed it over /webrtc. */
  | { kind: 'webrtc'; name: 'sip' | 'attach'; codecs: WebRtcCodec[]; connectTimeoutMs: number }
  | ({ kind: 'ws'; name: string } & EngineConfig);

export function resolveEngine(config: Pick<GatewayConfig, 'engines'>, ref: string, profile?: Pick<SipProfile, 'webrtc'>): EngineSpec {
  if (ref === 'builtin:echo' || ref === 'builtin:demo') return { kind: 'builtin', name: ref === 'builtin:echo' ? 'echo' : 'demo' };
  if (ref === 'webrtc:sip' || ref === 'webrtc:attach') {
    const w = profile?.webrtc ?? { codecs: ['PCMU', 'opus'], connectTimeoutSeconds: 30 };
    return { kind: 'webrtc', name: ref === 'webrtc:sip' ? 'sip' : 'attach', codecs: [...w.codecs], connectTimeoutMs: w.connectTimeoutSeconds * 1000 };
  }
  const named = config.engines[ref];
  if (named) return { kind: 'ws', name: ref, ...named };
  if (/^wss?:\/\//.test(ref)) return { kind: 'ws', name: ref, url: ref, protocol: 'twilio', connectTimeoutMs: 3000, tlsRejectUnauthorized: true };
  // loadConfig rejects unknown names, so this is a programming error, not bad input.
  throw new Error(`unknown engine reference '${ref}'`);
}
