/**
 * Checks a WebRTC far end's SDP answer before it is applied, so a bad answer ends the call with a
 * message naming the problem instead of a DTLS or ICE timeout 30 s later. It also picks what
 * we send: the first codec of the answer that we offered (RFC 3264 §6.1: the answerer lists its
 * preference) and the telephone-event entry with the same clock (RFC 4733 §2.1).
 */
import { parse, type MediaDescription, type SessionDescription } from 'sdp-transform';

export type WebRtcCodecName = 'opus' | 'PCMU' | 'PCMA';

export interface NegotiatedCodec {
  name: WebRtcCodecName;
  payloadType: number;
  clockRate: number;
}

export interface Negotiated {
  codec: NegotiatedCodec;
  /** Absent when the answer has no telephone-event at the codec's clock: digits go in band. */
  dtmf?: { payloadType: number; clockRate: number };
}

export class WebRtcSdpError extends Error {
  override readonly name = 'WebRtcSdpError';
}

/** Clock rates of the codecs we can bridge (RFC 3551 §4.5.14 for G.711, RFC 7587 §4.1 for Opus). */
export const CODEC_CLOCK: Record<WebRtcCodecName, number> = { opus: 48000, PCMU: 8000, PCMA: 8000 };
/** Static payload types (RFC 3551 table 4): an answer may list them without an rtpmap. */
const STATIC: Record<number, { name: string; rate: number }> = { 0: { name: 'PCMU', rate: 8000 }, 8: { name: 'PCMA', rate: 8000 } };

function rtpmapOf(m: MediaDescription, pt: number): { name: string; rate: number } | undefined {
  const r = m.rtp.find((x) => x.payload === pt);
  return r ? { name: r.codec, rate: r.rate ?? 0 } : STATIC[pt];
}

/** Throws WebRtcSdpError naming the first problem; returns what to send otherwise. */
export function checkAnswer(sdp: string, offered: readonly WebRtcCodecName[]): Negotiated {
  let s: SessionDescription;
  try {
    s = parse(sdp);
  } catch (e) {
    throw new WebRtcSdpError(`WebRTC answer is not valid SDP: ${(e as Error).message}`);
  }
  const m = (s.media ?? []).find((x) => x.type === 'audio');
  if (!m) throw new WebRtcSdpError('WebRTC answer has no audio m-line');
  if (m.port === 0) throw new WebRtcSdpError('WebRTC answer rejected the audio stream (m=audio port 0)');
  if (!/\bSAVPF?\b/.test(m.protocol)) {
    throw new WebRtcSdpError(`WebRTC answer uses ${m.protocol}; DTLS-SRTP (UDP/TLS/RTP/SAVPF, RFC 5764 §8) is required`);
  }
  // RFC 5763 §5: the fingerprint authenticates the DTLS certificate; without it SRTP keys are unverifiable.
  if (!m.fingerprint && !s.fingerprint) throw new WebRtcSdpError('WebRTC answer has no a=fingerprint (DTLS-SRTP needs it, RFC 5763 §5)');
  const ufrag = m.iceUfrag ?? s.iceUfrag;
  const pwd = m.icePwd ?? s.icePwd;
  if (!ufrag || !pwd) {
    const missing = [!ufrag && 'a=ice-ufrag', !pwd && 'a=ice-pwd'].filter(Boolean).join(' and ');
    throw new WebRtcSdpError(`WebRTC answer has no ICE credentials (${missing} missing, RFC 8839 §5.4)`);
  }
  // RFC 5763 §5: the answerer must choose a role; actpass is only valid in an offer.
  const setup = m.setup ?? (s as { setup?: string }).setup;
  if (setup === 'actpass') throw new WebRtcSdpError('WebRTC answer has a=setup:actpass (the answerer must pick active or passive, RFC 5763 §5)');

  const pts = String(m.payloads ?? '').split(/\s+/).filter(Boolean).map(Number);
  let codec: NegotiatedCodec | undefined;
  for (const pt of pts) {
    const map = rtpmapOf(m, pt);
    const name = offered.find((c) => map && c.toLowerCase() === map.name.toLowerCase() && CODEC_CLOCK[c] === map.rate);
    if (name) {
      codec = { name, payloadType: pt, clockRate: CODEC_CLOCK[name] };
      break;
    }
  }
  if (!codec) {
    const got = pts.map((pt) => {
      const map = rtpmapOf(m, pt);
      return map ? `${map.name}/${map.rate}` : `PT ${pt}`;
    });
    throw new WebRtcSdpError(`WebRTC answer has no codec in common with our offer (offered ${offered.join(', ')}; answered ${got.join(', ') || 'none'})`);
  }
  const te = m.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === codec.clockRate && pts.includes(r.payload));
  return { codec, ...(te ? { dtmf: { payloadType: te.payload, clockRate: codec.clockRate } } : {}) };
}
