// WebRTC far ends for bench/webrtc/run.ts, in their own process (the "browsers"): each offer that
// arrives over IPC is answered by a werift peer that echoes every RTP packet it receives (same
// codec) back to the gateway. Reports packet counts and this process's CPU on request.
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

type In = { op: 'offer'; id: string; sdp: string; codec: 'opus' | 'PCMU' } | { op: 'stats' } | { op: 'close' };

const peers = new Map<string, RTCPeerConnection>();
let rx = 0;
let tx = 0;

async function answer(id: string, sdp: string, codec: 'opus' | 'PCMU'): Promise<string> {
  const audio = codec === 'opus'
    ? [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })]
    : [new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 })];
  const pc = new RTCPeerConnection({ codecs: { audio, video: [] }, iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'], iceInterfaceAddresses: { udp4: '127.0.0.1' } });
  peers.set(id, pc);
  // The track event fires while the offer is applied: subscribe first.
  pc.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((p) => {
    rx++;
    tx++;
    void pc.getTransceivers()[0]!.sender.sendRtp(p);
  }));
  await pc.setRemoteDescription({ type: 'offer', sdp });
  pc.getTransceivers()[0]!.setDirection('sendrecv');
  await pc.setLocalDescription(await pc.createAnswer());
  if (pc.iceGatheringState !== 'complete') await new Promise<void>((r) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()));
  return pc.localDescription!.sdp;
}

process.on('message', (m: In) => {
  if (m.op === 'offer') {
    void answer(m.id, m.sdp, m.codec).then((sdp) => process.send!({ op: 'answer', id: m.id, sdp }));
  } else if (m.op === 'stats') {
    process.send!({ op: 'stats', rx, tx, cpu: process.cpuUsage() });
  } else {
    void Promise.all([...peers.values()].map((p) => p.close())).finally(() => process.exit(0));
  }
});
process.send!({ op: 'ready' });
