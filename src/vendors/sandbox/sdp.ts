/**
 * SDP for the sandbox call placer (RFC 4566, RFC 3264): the offer a LiveVox
 * conference leg makes (PCMU/8000 + telephone-event, ptime 20) and just enough parsing of an
 * answer or a re-offer to know where to send RTP and in which direction media may flow.
 */

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export const PT_PCMU = 0;
export const DEFAULT_TELEPHONE_EVENT_PT = 101;

export interface SdpSummary {
  /** Connection address of the audio stream (media-level c= over session-level c=). */
  address: string;
  /** Audio port; 0 means the stream was rejected (RFC 3264 §6). */
  port: number;
  /** Payload types listed on the m=audio line. */
  formats: number[];
  /** Media-level direction over session-level, default sendrecv (RFC 3264 §5.1). */
  direction: Direction;
  telephoneEventPt?: number;
}

export interface LocalSdp {
  host: string;
  port: number;
  sessionId: string;
  version: number;
  direction: Direction;
  telephoneEventPt: number;
}

export function buildSdp(o: LocalSdp): string {
  const te = o.telephoneEventPt;
  return [
    'v=0',
    `o=LiveVox ${o.sessionId} ${o.version} IN IP4 ${o.host}`,
    's=LiveVox simulator',
    `c=IN IP4 ${o.host}`,
    't=0 0',
    `m=audio ${o.port} RTP/AVP ${PT_PCMU} ${te}`,
    'a=rtpmap:0 PCMU/8000',
    `a=rtpmap:${te} telephone-event/8000`,
    `a=fmtp:${te} 0-16`,
    'a=ptime:20',
    `a=${o.direction}`,
    '',
  ].join('\r\n');
}

const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** The first audio stream of an SDP body, or null when there is none (or no usable address). */
export function parseSdp(text: string): SdpSummary | null {
  let sessionAddr: string | undefined;
  let sessionDir: Direction | undefined;
  let inAudio = false;
  let seenAudio = false;
  let media: { port: number; formats: number[]; addr?: string; dir?: Direction; te?: number } | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      // Only the first audio stream counts; anything after it is another stream.
      inAudio = false;
      if (seenAudio) continue;
      const m = /^audio\s+(\d+)(?:\/\d+)?\s+\S+\s*(.*)$/.exec(value);
      if (!m) continue;
      seenAudio = inAudio = true;
      media = { port: Number(m[1]), formats: m[2]!.split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n)) };
      continue;
    }
    if (seenAudio && !inAudio) continue;
    if (type === 'c') {
      const c = /^IN\s+IP[46]\s+([^\s/]+)/.exec(value);
      if (!c) continue;
      if (inAudio) media!.addr = c[1]!;
      else sessionAddr = c[1]!;
    } else if (type === 'a') {
      if (DIRECTIONS.has(value)) {
        if (inAudio) media!.dir = value as Direction;
        else sessionDir = value as Direction;
      } else if (inAudio) {
        const r = /^rtpmap:(\d+)\s+telephone-event\/8000/i.exec(value);
        if (r) media!.te = Number(r[1]);
      }
    }
  }
  if (!media) return null;
  const address = media.addr ?? sessionAddr;
  if (!address) return null;
  const out: SdpSummary = { address, port: media.port, formats: media.formats, direction: media.dir ?? sessionDir ?? 'sendrecv' };
  if (media.te !== undefined) out.telephoneEventPt = media.te;
  return out;
}

/** RFC 3264 §6.1: the direction that answers an offered one. */
export function answerDirection(offered: Direction): Direction {
  switch (offered) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return 'sendonly';
    default:
      return offered;
  }
}

/** Whether we may send when we declared `local` and the peer declared `remote`. */
export function maySend(local: Direction, remote: Direction): boolean {
  return (local === 'sendrecv' || local === 'sendonly') && (remote === 'sendrecv' || remote === 'recvonly');
}
