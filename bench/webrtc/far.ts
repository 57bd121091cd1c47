// WebRTC far ends for bench/webrtc/run.ts, in their own process (the "browsers"): each offer that
// arrives over IPC is answered by a werift peer that echoes every RTP packet it receives (same
// codec, same sequence number) back to the gateway. Per peer it counts what arrived by RTP
// sequence number (received, duplicates, and the span first..last, so lost = span - distinct), what
// it echoed, and tells the runner when ICE + DTLS is up. Reports this process's CPU on request.
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

type In =
  | { op: 'offer'; id: string; sdp: string; codec: 'opus' | 'PCMU' }
  | { op: 'stats' }
  | { op: 'drop'; ids: string[] }
  | { op: 'close' };

/** What one peer saw of the gateway's RTP, by sequence number (RFC 3550 §A.1 style unwrapping). */
export interface FarPeerStats {
  received: number;
  duplicates: number;
  /** Highest extended sequence number - first + 1: packets the gateway sent in between. */
  span: number;
  echoed: number;
}

interface Peer {
  pc: RTCPeerConnection;
  st: FarPeerStats;
  first: number;
  /** Extended highest sequence number seen (-1 before the first packet). */
  max: number;
  seen: Set<number>;
}

const peers = new Map<string, Peer>();

async function answer(id: string, sdp: string, codec: 'opus' | 'PCMU'): Promise<string> {
  const audio = codec === 'opus'
    ? [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })]
    : [new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 })];
  const pc = new RTCPeerConnection({ codecs: { audio, video: [] }, iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'], iceInterfaceAddresses: { udp4: '127.0.0.1' } });
  const peer: Peer = { pc, st: { received: 0, duplicates: 0, span: 0, echoed: 0 }, first: -1, max: -1, seen: new Set() };
  peers.set(id, peer);
  // The track event fires while the offer is applied: subscribe first.
  pc.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((p) => {
    count(peer, p.header.sequenceNumber);
    peer.st.echoed++;
    void pc.getTransceivers()[0]!.sender.sendRtp(p);
  }));
  pc.connectionStateChange.subscribe((s) => {
    if (s === 'connected') process.send!({ op: 'connected', id: `connected:${id}` });
  });
  await pc.setRemoteDescription({ type: 'offer', sdp });
  pc.getTransceivers()[0]!.setDirection('sendrecv');
  await pc.setLocalDescription(await pc.createAnswer());
  if (pc.iceGatheringState !== 'complete') await new Promise<void>((r) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()));
  return pc.localDescription!.sdp;
}

function count(p: Peer, seq16: number): void {
  let ext: number;
  if (p.max < 0) {
    ext = seq16;
    p.first = ext;
  } else {
    // The extended number nearest to the highest so far (handles wrap and small reordering).
    const base = p.max - (p.max & 0xffff);
    ext = base + seq16;
    if (ext - p.max > 0x8000) ext -= 0x10000;
    else if (p.max - ext > 0x8000) ext += 0x10000;
  }
  if (p.seen.has(ext)) {
    p.st.duplicates++;
    return;
  }
  p.seen.add(ext);
  p.st.received++;
  if (ext > p.max) p.max = ext;
  p.st.span = p.max - p.first + 1;
}

process.on('message', (m: In) => {
  if (m.op === 'offer') {
    void answer(m.id, m.sdp, m.codec).then((sdp) => process.send!({ op: 'answer', id: m.id, sdp }));
  } else if (m.op === 'stats') {
    const per: Record<string, FarPeerStats> = {};
    for (const [id, p] of peers) per[id] = { ...p.st };
    process.send!({ op: 'stats', peers: per, cpu: process.cpuUsage() });
  } else if (m.op === 'drop') {
    // Peers of a finished step: closed so they cost nothing in the next one.
    const gone = m.ids.map((id) => peers.get(id)).filter((p): p is Peer => p !== undefined);
    for (const id of m.ids) peers.delete(id);
    void Promise.all(gone.map((p) => p.pc.close().catch(() => undefined))).then(() => process.send!({ op: 'dropped', id: 'dropped' }));
  } else {
    void Promise.all([...peers.values()].map((p) => p.pc.close())).finally(() => process.exit(0));
  }
});
process.send!({ op: 'ready' });
