import { existsSync } from 'node:fs';
import type { LocatedAgent } from './agents.js';
import type { ProblemSink } from './problems.js';
import type { GatewayConfig, SipProfile } from './types.js';

// Checks that span several profiles (and files): uniqueness of agent numbers,
// agent ids and profile names, and sockets that could not all be bound.

export interface LoadedProfile {
  /** Where problems about this profile go (its file, or gateway.yaml + `profiles[i]` if inline). */
  sink: ProblemSink;
  /** Undefined when the profile's own fields failed validation. */
  profile?: SipProfile;
  /** Agents that passed their own checks, even when the rest of the profile did not. */
  agents: LocatedAgent[];
}

/** Do two bind addresses overlap? A wildcard overlaps its family; '::' is dual-stack on Linux. */
function hostsOverlap(a: string, b: string): boolean {
  if (a === b || a === '::' || b === '::') return true;
  const v4 = (h: string) => h.includes('.') && !h.includes(':');
  return (a === '0.0.0.0' && v4(b)) || (b === '0.0.0.0' && v4(a));
}

function profileLabel(p: LoadedProfile): string {
  const at = p.sink.prefix ? `${p.sink.file}: ${p.sink.prefix}` : p.sink.file;
  return p.profile ? `profile '${p.profile.name}' (${at})` : at;
}

interface Group {
  sink: ProblemSink;
  key: string;
  first: LocatedAgent;
  other: LocatedAgent;
  count: number;
}

/**
 * Duplicate numbers (by routing key) and ids across all profiles. Overlapping ranges
 * would yield one problem per agent, so problems are grouped per pair of entries.
 */
function checkAgentDuplicates(profiles: LoadedProfile[]): void {
  for (const kind of ['number', 'id'] as const) {
    const seen = new Map<string, LocatedAgent>();
    const groups = new Map<string, Group>();
    for (const p of profiles) {
      for (const a of p.agents) {
        const value = kind === 'number' ? a.agent.key : a.agent.id;
        const other = seen.get(value);
        if (!other) {
          seen.set(value, a);
          continue;
        }
        const key = kind === 'number' ? a.numberKey : a.idKey;
        const id = `${p.sink.file}\0${p.sink.prefix}\0${key}\0${other.where}`;
        const g = groups.get(id);
        if (g) g.count++;
        else groups.set(id, { sink: p.sink, key, first: a, other, count: 1 });
      }
    }
    for (const g of groups.values()) g.sink.add(g.key, duplicateMessage(kind, g));
  }
}

function duplicateMessage(kind: 'number' | 'id', g: Group): string {
  const a = g.first.agent;
  const o = g.other.agent;
  const what =
    kind === 'number'
      ? `duplicate number ${JSON.stringify(a.number)} (routing key ${a.key}): already used by agent '${o.id}' (${JSON.stringify(o.number)}) at ${g.other.where}`
      : `duplicate agent id '${a.id}': already used by the agent at ${g.other.where}`;
  return g.count === 1 ? what : `${g.count} duplicate ${kind}s with ${g.other.where}, first: ${what}`;
}

function checkProfileNames(profiles: LoadedProfile[]): void {
  const seen = new Map<string, LoadedProfile>();
  for (const p of profiles) {
    if (!p.profile) continue;
    const other = seen.get(p.profile.name);
    if (other) p.sink.add('name', `duplicate profile name '${p.profile.name}': also used by ${profileLabel(other)}`);
    else seen.set(p.profile.name, p);
  }
}

/** Sockets that would fail with EADDRINUSE at start-up, reported now instead. */
function checkSockets(config: GatewayConfig['gateway'] | undefined, media: GatewayConfig['media'] | undefined, gatewaySink: ProblemSink, profiles: LoadedProfile[]): void {
  const valid = profiles.filter((p) => p.profile);
  valid.forEach((p, i) => {
    const l = p.profile!.listen;
    for (const q of valid.slice(0, i)) {
      const m = q.profile!.listen;
      if (m.port !== l.port || !hostsOverlap(m.host, l.host)) continue;
      for (const t of l.transports.filter((t) => m.transports.includes(t))) {
        p.sink.add('listen', `${t} ${l.host}:${l.port} clashes with ${t} ${m.host}:${m.port} of ${profileLabel(q)}`);
      }
    }
    if (config && config.http.port === l.port && l.transports.includes('tcp') && hostsOverlap(config.http.host, l.host)) {
      gatewaySink.add('gateway.http.port', `tcp ${config.http.host}:${config.http.port} clashes with the SIP tcp listener of ${profileLabel(p)}`);
    }
    // RTP sockets may bind any address, so any overlap of port numbers counts.
    if (media && l.transports.includes('udp') && l.port >= media.rtpPortMin && l.port <= media.rtpPortMax) {
      p.sink.add('listen.port', `udp port ${l.port} lies inside the RTP port range ${media.rtpPortMin}..${media.rtpPortMax} (${gatewaySink.file}: media)`);
    }
  });
}

export function crossCheck(
  top: Pick<GatewayConfig, 'gateway' | 'media' | 'engines'> | undefined,
  gatewaySink: ProblemSink,
  profiles: LoadedProfile[],
): void {
  if (top) checkEngineReferences(top.engines, profiles);
  checkAgentDuplicates(profiles);
  checkProfileNames(profiles);
  checkSockets(top?.gateway, top?.media, gatewaySink, profiles);
  checkWebSocket(profiles);
}

/** The HTTP port has one /sip path, so one profile takes SIP over WebSocket. */
function checkWebSocket(profiles: LoadedProfile[]): void {
  let first: LoadedProfile | undefined;
  for (const p of profiles) {
    if (!p.profile?.listen.websocket) continue;
    if (first) p.sink.add('listen.websocket', `only one profile may take SIP over WebSocket (/sip on the HTTP port); ${profileLabel(first)} already does`);
    else first = p;
  }
}

/** Engine names must exist in `engines:`; a failure-policy audio file must exist. */
function checkEngineReferences(engines: GatewayConfig['engines'], profiles: LoadedProfile[]): void {
  const known = (ref: string): boolean => ref.startsWith('builtin:') || ref.startsWith('webrtc:') || /^wss?:\/\//.test(ref) || ref in engines;
  const list = Object.keys(engines).join(', ') || 'none defined';
  for (const p of profiles) {
    if (!p.profile) continue;
    if (!known(p.profile.engine)) p.sink.add('engine', `unknown engine '${p.profile.engine}' (engines in gateway.yaml: ${list})`);
    const audio = p.profile.engineFailure.audioFile;
    if (audio && !existsSync(audio)) p.sink.add('engineFailure.audioFile', `file not found: ${audio}`);
    for (const a of p.agents) {
      const key = a.idKey.split('.')[0]!;
      if (a.agent.engine !== p.profile.engine && !known(a.agent.engine)) {
        p.sink.add(`${key}.engine`, `unknown engine '${a.agent.engine}' (engines in gateway.yaml: ${list})`);
      }
      // The agent's browser registers over /sip with digest: both must be possible.
      if (a.agent.engine === 'webrtc:sip') {
        if (!p.profile.listen.websocket) p.sink.add(`${key}.engine`, "'webrtc:sip' needs listen.websocket: true on this profile (the agent registers over /sip)");
        if (!a.agent.sipPassword) p.sink.add(`${key}.sipPassword`, "is required for an agent whose engine is 'webrtc:sip' (the digest password its SIP.js client registers with)");
      }
    }
  }
}
