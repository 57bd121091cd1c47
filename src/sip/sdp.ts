/**
 * SDP offer/answer for audio (RFC 3264, SDP per RFC 4566/8866) with sdp-transform. The answer keeps
 * the offer's m-lines in order (§6), accepts the first usable audio stream with one codec from the
 * profile's preference list plus telephone-event (RFC 4733) when both sides have it, and rejects the
 * rest with port 0. Direction follows §6.1: sendonly -> recvonly, recvonly -> sendonly,
 * inactive -> inactive, sendrecv -> sendrecv.
 */
import { parse as parseSdp, type MediaDescription } from 'sdp-transform';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type AudioCodecName = 'PCMU' | 'PCMA';

export class SdpError extends Error {
  override readonly name = 'SdpError';
}

export interface AnswerOptions {
  /** Our media address (c= and o=) and RTP port. */
  address: string;
  port: number;
  /** Preference order; 'telephone-event' enables RFC 4733 DTMF. */
  codecs: readonly string[];
  ptime: number;
  sessionId: string;
  sessionVersion: number;
}

export interface NegotiatedMedia {
  codec: { name: AudioCodecName; payloadType: number; clockRate: number };
  dtmf?: { payloadType: number; clockRate: number };
  /** Where to send RTP (may be unusable, e.g. 0.0.0.0 on hold: media then follows symmetric RTP). */
  remote: { address: string; port: number };
  /** Direction of our answer, i.e. what we may do. */
  direction: Direction;
  ptime: number;
}

const STATIC: Record<number, AudioCodecName> = { 0: 'PCMU', 8: 'PCMA' };
const FLIP: Record<Direction, Direction> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

interface Format {
  pt: number;
  name: string;
  rate: number;
  fmtp?: string;
}

function formatsOf(m: MediaDescription): Format[] {
  const pts = String(m.payloads ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return pts.map((pt) => {
    const map = m.rtp.find((r) => r.payload === pt);
    const name = map ? map.codec : STATIC[pt] ?? '';
    const f: Format = { pt, name: name.toUpperCase() === 'TELEPHONE-EVENT' ? 'telephone-event' : name.toUpperCase(), rate: map?.rate ?? 8000 };
    const fmtp = m.fmtp.find((x) => x.payload === pt)?.config;
    if (fmtp) f.fmtp = fmtp;
    return f;
  });
}

/** Build the answer to `offer`. Throws SdpError with a reason fit for a 488 reason phrase. */
export function answerOffer(offer: string, opts: AnswerOptions): { sdp: string; media: NegotiatedMedia } {
  let session;
  try {
    session = parseSdp(offer);
  } catch {
    throw new SdpError('Unparsable SDP offer');
  }
  if (!session.media || session.media.length === 0) throw new SdpError('SDP offer has no media line');
  let chosen: { index: number; media: NegotiatedMedia; formats: Format[] } | undefined;
  let why = 'No audio stream in SDP offer';
  session.media.forEach((m, index) => {
    if (chosen || m.type !== 'audio' || m.port === 0) return;
    if (!/^RTP\/AVP$/i.test(m.protocol)) {
      why = `Unsupported media protocol ${m.protocol} (only RTP/AVP)`;
      return;
    }
    const address = m.connection?.ip ?? session.connection?.ip;
    if (!address) {
      why = 'SDP offer has no connection address';
      return;
    }
    const formats = formatsOf(m);
    const codec = opts.codecs
      .filter((c): c is AudioCodecName => c === 'PCMU' || c === 'PCMA')
      .map((c) => formats.find((f) => f.name === c && f.rate === 8000))
      .find((f) => f !== undefined);
    if (!codec) {
      why = `No common codec: offer has ${formats.map((f) => f.name || f.pt).join(',')}, we accept ${opts.codecs.filter((c) => c !== 'telephone-event').join(',')}`;
      return;
    }
    const dtmf = opts.codecs.includes('telephone-event') ? formats.find((f) => f.name === 'telephone-event' && f.rate === 8000) : undefined;
    let remoteDir = (m.direction ?? session.direction ?? 'sendrecv') as Direction;
    // RFC 3264 §8.4: c=0.0.0.0 is the legacy way of saying "do not send to me".
    if (address === '0.0.0.0' && remoteDir === 'sendrecv') remoteDir = 'sendonly';
    const media: NegotiatedMedia = {
      codec: { name: codec.name as AudioCodecName, payloadType: codec.pt, clockRate: 8000 },
      remote: { address, port: m.port },
      direction: FLIP[remoteDir] ?? 'sendrecv',
      ptime: opts.ptime,
    };
    if (dtmf) media.dtmf = { payloadType: dtmf.pt, clockRate: 8000 };
    chosen = { index, media, formats: dtmf ? [codec, dtmf] : [codec] };
  });
  if (!chosen) throw new SdpError(why);
  const c = chosen;
  const lines = [
    'v=0',
    `o=vagw ${opts.sessionId} ${opts.sessionVersion} IN IP${opts.address.includes(':') ? 6 : 4} ${opts.address}`,
    's=vagw',
    `c=IN IP${opts.address.includes(':') ? 6 : 4} ${opts.address}`,
    't=0 0',
  ];
  session.media.forEach((m, index) => {
    if (index !== c.index) {
      // §6: a rejected stream keeps its place with port 0 and at least one of the offered formats.
      lines.push(`m=${m.type} 0 ${m.protocol} ${String(m.payloads ?? '0').split(/\s+/)[0]}`);
      return;
    }
    lines.push(`m=audio ${opts.port} RTP/AVP ${c.formats.map((f) => f.pt).join(' ')}`);
    for (const f of c.formats) {
      lines.push(`a=rtpmap:${f.pt} ${f.name}/8000`);
      if (f.name === 'telephone-event') lines.push(`a=fmtp:${f.pt} ${f.fmtp ?? '0-15'}`);
    }
    lines.push(`a=ptime:${opts.ptime}`, `a=${c.media.direction}`);
  });
  return { sdp: lines.join('\r\n') + '\r\n', media: c.media };
}

/**
 * Our next offer in the same session (RFC 3264 §8): the previous local description with the
 * audio stream's direction set to `direction` (hold: sendonly, §8.4; resume: sendrecv) and the
 * o= version `version` (one more than the last, §8). Streams we rejected keep port 0.
 */
export function reoffer(local: string, direction: Direction, version: number): string {
  const lines = local.split(/\r?\n/).filter((l) => l !== '');
  let audio = false;
  const out = lines.map((l) => {
    if (l.startsWith('o=')) {
      const f = l.split(' ');
      f[2] = String(version);
      return f.join(' ');
    }
    if (l.startsWith('m=')) audio = /^m=audio [1-9]/.test(l);
    if (audio && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l)) return `a=${direction}`;
    return l;
  });
  return out.join('\r\n') + '\r\n';
}

/**
 * The peer's answer to our offer: where to send now and what we may do (its direction flipped,
 * §6.1). Codec and DTMF stay those of the session: we offered only them.
 */
export function readAnswer(answer: string, was: NegotiatedMedia): NegotiatedMedia {
  let session;
  try {
    session = parseSdp(answer);
  } catch {
    throw new SdpError('Unparsable SDP answer');
  }
  const m = (session.media ?? []).find((x) => x.type === 'audio');
  if (!m || m.port === 0) throw new SdpError('The answer rejects the audio stream');
  const address = m.connection?.ip ?? session.connection?.ip;
  if (!address) throw new SdpError('SDP answer has no connection address');
  const theirs = (m.direction ?? session.direction ?? 'sendrecv') as Direction;
  return { ...was, remote: { address, port: m.port }, direction: FLIP[theirs] ?? 'sendrecv' };
}
