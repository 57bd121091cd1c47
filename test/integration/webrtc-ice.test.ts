/**
 * ICE of WebRTC far ends behind a firewall, through the real worker plane and werift on both
 * sides: every host candidate of our offers lies in the configured port range (never the RTP
 * range) and carries the advertised address; a range with no free port refuses the call clearly
 * through the engine-failure policy instead of binding elsewhere.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerMediaPlane } from '../../media/worker-plane.js';
import type { MediaEndReason, MediaSession, OpenRequest } from '../../media/types.js';
import { advertise } from '../../media/webrtc/link.js';
import { WebRtcFarEnd } from '../helpers/webrtc-far-end.js';
import { waitFor } from '../helpers/test-engine.js';

const ICE = { portMin: 51200, portMax: 51207 };
const BUSY = { portMin: 51220, portMax: 51221 };
let plane: WorkerMediaPlane;
let busyPlane: WorkerMediaPlane;
beforeAll(() => {
  const settings = { host: '127.0.0.1', rtpTimeoutMs: 0, jitterMinMs: 40, jitterMaxMs: 200, engineBufferFrames: 500 };
  plane = new WorkerMediaPlane({ host: '127.0.0.1', portMin: 51100, portMax: 51149, workers: 1, settings: { ...settings, ice: { ...ICE, servers: [] } } });
  busyPlane = new WorkerMediaPlane({ host: '127.0.0.1', portMin: 51150, portMax: 51199, workers: 1, settings: { ...settings, ice: { ...BUSY, servers: [] } } });
});
afterAll(async () => {
  await plane.close();
  await busyPlane.close();
});

let n = 0;
function request(): OpenRequest {
  const id = `ice-it-${++n}`;
  return {
    callId: id,
    engine: { kind: 'webrtc', name: 'sip', codecs: ['PCMU'], connectTimeoutMs: 5000 },
    meta: { callSid: `CA${id}`, streamSid: `MZ${id}`, accountSid: 'vagw-it', sipCallId: id, agentId: 'a1', number: '8990001', caller: '+1555', dnis: '800', profile: 'p', vendor: {}, custom: {} },
    failure: { policy: 'hangup', reconnectWindowMs: 0 },
  };
}

async function open(p: WorkerMediaPlane): Promise<{ s: MediaSession; offer: Promise<string>; ended: { reason?: MediaEndReason; detail?: string } }> {
  const s = await p.open(request());
  const ended: { reason?: MediaEndReason; detail?: string } = {};
  s.onEnd = (reason, detail) => Object.assign(ended, { reason, detail });
  s.update({ codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, remote: { address: '127.0.0.1', port: 9 }, direction: 'sendrecv', ptime: 20 });
  const offer = new Promise<string>((resolve) => {
    s.onSignal = (sig) => sig.type === 'offer' && resolve(sig.sdp);
  });
  s.start();
  return { s, offer, ended };
}

const candidatePorts = (sdp: string): number[] => [...sdp.matchAll(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/gim)].map((m) => Number(m[1]));

describe('WebRTC ICE from a configured port range', () => {
  it('four calls at once: every host candidate in the range, the calls connect', async () => {
    const calls = await Promise.all([1, 2, 3, 4].map(() => open(plane)));
    const offers = await Promise.all(calls.map((c) => c.offer));
    const ports = offers.flatMap(candidatePorts);
    expect(ports.length).toBeGreaterThanOrEqual(4);
    for (const p of ports) expect(p >= ICE.portMin && p <= ICE.portMax).toBe(true);
    expect(new Set(ports).size).toBe(ports.length);
    const fars = await Promise.all(offers.map((o) => WebRtcFarEnd.answer(o, 'PCMU')));
    fars.forEach(({ sdp }, i) => calls[i]!.s.signal({ type: 'answer', sdp }));
    await Promise.all(fars.map(({ far }) => far.connected()));
    for (const c of calls) c.s.close();
    await Promise.all(fars.map(({ far }) => far.close()));
  });

  it('no free port in the range: the call is refused through the engine-failure policy, naming the range', async () => {
    const held = await Promise.all(
      [BUSY.portMin, BUSY.portMax].map(
        (port) =>
          new Promise<dgram.Socket>((resolve) => {
            const sock = dgram.createSocket('udp4');
            sock.bind(port, '127.0.0.1', () => resolve(sock));
          }),
      ),
    );
    try {
      const { s, ended } = await open(busyPlane);
      await waitFor(() => ended.reason !== undefined, 5000, 'onEnd');
      expect(ended).toEqual({ reason: 'engine-failed', detail: expect.stringContaining(`no UDP port free in ${BUSY.portMin}..${BUSY.portMax}`) });
      s.close();
    } finally {
      for (const sock of held) sock.close();
    }
  });

  it('behind 1:1 NAT the advertised address replaces the media host in candidates and c= lines', () => {
    const sdp = ['v=0', 'c=IN IP4 10.0.0.5', 'a=candidate:1 1 udp 2130706431 10.0.0.5 40002 typ host', 'a=candidate:2 1 udp 1694498815 198.51.100.7 40002 typ srflx raddr 10.0.0.5 rport 40002', ''].join('\r\n');
    const out = advertise(sdp, '10.0.0.5', '203.0.113.10');
    expect(out).toContain('c=IN IP4 203.0.113.10\r\n');
    expect(out).toContain('a=candidate:1 1 udp 2130706431 203.0.113.10 40002 typ host');
    expect(out).toContain('198.51.100.7 40002 typ srflx raddr 10.0.0.5');
    expect(advertise(sdp, '10.0.0.5', undefined)).toBe(sdp);
  });
});
