import { describe, expect, it } from 'vitest';
import { mirrorOffer, setupOf } from './sdp-mirror.js';

const OURS = [
  'v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 110 101', 'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789012345678901', 'a=fingerprint:sha-256 AA:BB', 'a=setup:actpass',
  'a=mid:0', 'a=sendrecv', 'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:110 telephone-event/48000', 'a=rtpmap:101 telephone-event/8000',
  'a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host', 'a=end-of-candidates', '',
].join('\r\n');

const reoffer = (dir: string, pts = '0 101') =>
  ['v=0', 'o=- 9 3 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio 9 UDP/TLS/RTP/SAVPF ${pts}`, 'c=IN IP4 0.0.0.0',
    'a=ice-ufrag:zz', 'a=ice-pwd:yyyyyyyyyyyyyyyyyyyyyy', 'a=fingerprint:sha-256 CC:DD', 'a=setup:actpass', 'a=mid:0', `a=${dir}`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', ''].join('\r\n');

describe('mirrorOffer (re-INVITE hold from a SIP.js far end)', () => {
  it('answers sendonly with recvonly, keeps our ICE/DTLS, pins our DTLS role, keeps only codecs still offered', () => {
    const r = mirrorOffer(OURS, reoffer('sendonly'), 'passive', 7);
    if ('error' in r) throw new Error(r.error);
    expect(r.held).toBe(true);
    expect(r.sdp).toMatch(/a=recvonly/);
    expect(r.sdp).not.toMatch(/a=sendrecv/);
    expect(r.sdp).toMatch(/a=setup:passive/);
    expect(r.sdp).toMatch(/a=ice-ufrag:abcd/);
    expect(r.sdp).toMatch(/a=fingerprint:sha-256 AA:BB/);
    expect(r.sdp).toMatch(/m=audio 9 UDP\/TLS\/RTP\/SAVPF 0 101\r\n/);
    expect(r.sdp).not.toMatch(/opus/);
    expect(r.sdp).toMatch(/^o=- 1 7 IN IP4/m);
    expect(setupOf(r.sdp)).toBe('passive');
  });

  it('resume (sendrecv) is not held; inactive is', () => {
    expect(mirrorOffer(OURS, reoffer('sendrecv'), 'active', 8)).toMatchObject({ held: false });
    const r = mirrorOffer(OURS, reoffer('inactive'), 'active', 9);
    expect(r).toMatchObject({ held: true });
    expect((r as { sdp: string }).sdp).toMatch(/a=inactive/);
  });

  it('refuses re-offers it cannot answer, naming why', () => {
    expect(mirrorOffer(OURS, reoffer('sendonly', '9'), 'passive', 2)).toEqual({ error: 'Re-offer lists none of the negotiated audio codecs' });
    expect(mirrorOffer(OURS, reoffer('sendonly', '101'), 'passive', 2)).toEqual({ error: 'Re-offer lists none of the negotiated audio codecs' });
    expect(mirrorOffer(OURS, reoffer('sendonly').replace('m=audio 9', 'm=audio 0'), 'passive', 2)).toMatchObject({ error: expect.stringContaining('port 0') });
    expect(mirrorOffer(OURS, 'v=0\r\ns=-\r\nt=0 0\r\n', 'passive', 2)).toEqual({ error: 'Re-offer has no audio stream' });
  });
});
