/**
 * The werift RTCPeerConnection behind one WebRTC engine link: one audio transceiver (sendrecv),
 * BUNDLE and rtcp-mux (one 5-tuple for RTP and RTCP, RFC 8843 / RFC 5761), DTLS-SRTP (RFC 5763,
 * RFC 5764), full ICE with host candidates on the media host only. This is the only file that
 * knows werift's construction API; a mediasoup-based link would replace this and link.ts only.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver } from 'werift';
import type { WebRtcCodecName } from './sdp-check.js';
import type { IceSettings } from '../types.js';

/** Payload types of our offer (dynamic ones as browsers number them, static G.711 per RFC 3551). */
export const OFFER_PT = { PCMU: 0, PCMA: 8, opus: 111, te8k: 101, te48k: 110 } as const;

/** Codec lines of our offer in preference order, then telephone-event (RFC 4733 §7.1.1). */
export function offerCodecs(codecs: readonly WebRtcCodecName[]): RTCRtpCodecParameters[] {
  const out: RTCRtpCodecParameters[] = [];
  for (const c of codecs) {
    if (c === 'opus') {
      out.push(new RTCRtpCodecParameters({
        mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: OFFER_PT.opus,
        // RFC 7587 §6.1: we only ever play and capture 8 kHz (the carrier leg), so the far end
        // need not spend bits above it; in-band FEC helps on lossy access networks.
        parameters: 'minptime=10;useinbandfec=1;maxplaybackrate=8000;sprop-maxcapturerate=8000',
      }));
    } else {
      out.push(new RTCRtpCodecParameters({ mimeType: `audio/${c}`, clockRate: 8000, channels: 1, payloadType: OFFER_PT[c] }));
    }
  }
  // The event clock must match the audio codec's (RFC 4733 §2.1): /48000 goes with Opus.
  if (codecs.includes('opus')) {
    out.push(new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 48000, channels: 1, payloadType: OFFER_PT.te48k, parameters: '0-15' }));
  }
  if (codecs.some((c) => c !== 'opus')) {
    out.push(new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: OFFER_PT.te8k, parameters: '0-15' }));
  }
  return out;
}

/** An address that names no interface: let werift find the host's IPv4 addresses itself. */
const UNSPECIFIED = new Set(['', '0.0.0.0', '::']);

export function createPeer(host: string, codecs: readonly WebRtcCodecName[], ice?: IceSettings): { pc: RTCPeerConnection; transceiver: RTCRtpTransceiver } {
  const pinned = !UNSPECIFIED.has(host);
  const pc = new RTCPeerConnection({
    // Candidates only from the configured range, so the firewall rule for far ends can be written
    // and no ICE socket takes a port of the RTP range a later call needs.
    ...(ice ? { icePortRange: [ice.portMin, ice.portMax] as [number, number], iceServers: ice.servers } : {}),
    codecs: { audio: offerCodecs(codecs), video: [] },
    // Only the media host's address: no IPv6, link-local or mDNS candidates the far end would
    // probe in vain (each costs ICE checks and delays 'connected').
    iceUseIpv4: !pinned,
    iceUseIpv6: false,
    ...(pinned ? { iceAdditionalHostAddresses: [host], iceInterfaceAddresses: { udp4: host } } : {}),
    bundlePolicy: 'max-bundle',
  });
  const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
  return { pc, transceiver };
}

/** Resolves once every local candidate is in the local description (non-trickle offer, RFC 8838 §4). */
export function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const { unSubscribe } = pc.iceGatheringStateChange.subscribe((s) => {
      if (s !== 'complete') return;
      unSubscribe();
      resolve();
    });
  });
}
