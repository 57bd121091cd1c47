/**
 * Answers a re-offer from a WebRTC far end (SIP.js hold/resume) without a round trip to the media
 * plane: ICE credentials, fingerprint and candidates stay those of our first offer, so our answer
 * is that offer with the direction mirrored (RFC 3264 §6.1), our DTLS role pinned (RFC 5763 §5:
 * a=setup in an answer is active or passive, never actpass) and only codecs the re-offer still
 * lists. JSEP keeps payload types stable across offers (RFC 8829 §5.2.2), so ours still match.
 */
import { parse, write, type MediaDescription } from 'sdp-transform';

type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const MIRROR: Record<Direction, Direction> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

export function setupOf(sdp: string): string | undefined {
  return /^a=setup:(\w+)/m.exec(sdp)?.[1];
}

function directionOf(m: MediaDescription, session: { direction?: string }): Direction {
  return ((m.direction ?? session.direction ?? 'sendrecv') as Direction);
}

const codecKey = (r: { codec: string; rate?: number }): string => `${r.codec.toLowerCase()}/${r.rate ?? ''}`;

export function mirrorOffer(ourOffer: string, reoffer: string, ourSetup: 'active' | 'passive', version: number): { sdp: string; held: boolean } | { error: string } {
  const ours = parse(ourOffer);
  const theirs = parse(reoffer);
  const theirAudio = theirs.media.find((m) => m.type === 'audio');
  const ourAudio = ours.media.find((m) => m.type === 'audio');
  if (!theirAudio || !ourAudio) return { error: 'Re-offer has no audio stream' };
  if (theirAudio.port === 0) return { error: 'Re-offer rejects the audio stream (port 0); hang up with BYE instead' };
  // What the re-offer lists on its m-line: rtpmap'd payloads, plus static ones without an rtpmap (RFC 3551).
  const listed = String(theirAudio.payloads ?? '').split(/\s+/).filter(Boolean).map(Number);
  const STATIC: Record<number, { codec: string; rate: number }> = { 0: { codec: 'PCMU', rate: 8000 }, 8: { codec: 'PCMA', rate: 8000 } };
  const offered = new Set(listed.map((pt) => (theirAudio.rtp ?? []).find((r) => r.payload === pt) ?? STATIC[pt]).filter((r) => r !== undefined).map(codecKey));
  const keep = (ourAudio.rtp ?? []).filter((r) => offered.has(codecKey(r))).map((r) => r.payload);
  if (!keep.some((pt) => (ourAudio.rtp ?? []).find((r) => r.payload === pt && r.codec.toLowerCase() !== 'telephone-event'))) {
    return { error: 'Re-offer lists none of the negotiated audio codecs' };
  }
  const dir = directionOf(theirAudio, theirs);
  ourAudio.rtp = (ourAudio.rtp ?? []).filter((r) => keep.includes(r.payload));
  ourAudio.fmtp = (ourAudio.fmtp ?? []).filter((f) => keep.includes(f.payload));
  ourAudio.rtcpFb = ourAudio.rtcpFb?.filter((f) => keep.includes(Number(f.payload)));
  ourAudio.payloads = keep.join(' ');
  ourAudio.direction = MIRROR[dir];
  ourAudio.setup = ourSetup;
  delete ours.direction;
  if (ours.origin) ours.origin.sessionVersion = version;
  return { sdp: write(ours), held: dir === 'sendonly' || dir === 'inactive' };
}
