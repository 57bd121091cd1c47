/**
 * RFC 4475's own torture messages (test/corpus/rfc4475-ietf) and the project's corpus written
 * after them (test/corpus/rfc4475), each checked twice: at the parser, and on the wire against
 * the started gateway over UDP, where the answer must be the one the RFC gives a UAS (416 for an
 * unknown scheme, 420 with Unsupported, 406, 505, 501, 400 for what can be addressed) or nothing
 * at all for a response that matches no transaction. The answers arrive where §18.2.2 sends them:
 * the source address with the Via's port (5060 when it names none; these messages carry no rport),
 * or the source address and port when the Via itself is unusable. So the test's socket is bound
 * to 127.0.0.77:5060 (and :5050 for the one Via that names that port).
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server.js';
import type { SipMessage, SipResponse } from '../../src/sip/message.js';
import { parseAndValidate, parseMessage, SipParseError } from '../../src/sip/parser.js';
import { startFixture } from '../helpers/gateway.js';

const IETF = path.resolve(import.meta.dirname, '..', 'corpus', 'rfc4475-ietf');
const ietf = JSON.parse(readFileSync(path.join(IETF, 'expectations.json'), 'utf8')) as Record<string, { section: string; valid: boolean; status?: number; wire: number | null; to?: string | number; unsupported?: string; note: string }>;
const HOST = '127.0.0.77';
const GW = 25196;

let gw: RunningGateway;
/** What each message got, printed as one table at the end (the test's report). */
const report: string[] = [];
const socks: dgram.Socket[] = [];
const inbox: { msg: SipMessage; port: number }[] = [];

beforeAll(async () => {
  gw = await startFixture('rfc4475-gateway.yaml');
  for (const port of [5060, 5050]) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, HOST, () => resolve());
    });
    s.on('message', (m) => {
      try {
        inbox.push({ msg: parseMessage(m), port });
      } catch {
        /* the gateway only sends well-formed messages; a test failure shows up as a missing answer */
      }
    });
    socks.push(s);
  }
});
afterAll(async () => {
  if (report.length) console.info(['RFC 4475 on the wire (message | section | parser expected/actual | wire expected/actual):', ...report].join('\n'));
  for (const s of socks) s.close();
  await gw.shutdown(0);
});

let probes = 0;
/** Send, then an OPTIONS probe: once the probe is answered, everything sent before it was handled. */
async function exchange(bytes: Buffer): Promise<{ msg: SipMessage; port: number }[]> {
  const start = inbox.length;
  socks[0]!.send(bytes, GW, '127.0.0.1');
  const id = `probe-${++probes}`;
  socks[0]!.send(
    Buffer.from(`OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:5060;branch=z9hG4bK${id}\r\nFrom: <sip:t@${HOST}>;tag=${id}\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`),
    GW,
    '127.0.0.1',
  );
  await expect.poll(() => inbox.slice(start).some((e) => e.msg.headers.get('Call-ID') === id)).toBe(true);
  // Answers to the message may arrive in the same burst as the probe's: give the event loop a turn.
  await new Promise((r) => setImmediate(r));
  return inbox.slice(start).filter((e) => e.msg.headers.get('Call-ID') !== id);
}

/** CSeq and Call-ID as the gateway copies them into its answer (from the partial parse if need be). */
function identity(bytes: Buffer): { cseq?: string; callId?: string } {
  let m: SipMessage | undefined;
  try {
    m = parseMessage(bytes);
  } catch (e) {
    m = e instanceof SipParseError ? e.partial : undefined;
  }
  return { cseq: m?.headers.get('CSeq'), callId: m?.headers.get('Call-ID') };
}

describe('RFC 4475 (the IETF messages): parser verdict and the answer on the wire', () => {
  for (const [file, exp] of Object.entries(ietf)) {
    it(`§${exp.section} ${file}: ${exp.valid ? 'parses' : `rejected (${exp.status})`}, wire ${exp.wire ?? 'no answer'}: ${exp.note}`, async () => {
      const bytes = readFileSync(path.join(IETF, file));
      let parsed = 'valid';
      try {
        parseAndValidate(bytes);
      } catch (e) {
        parsed = e instanceof SipParseError ? String(e.status) : `threw ${String(e)}`;
      }
      // Answers to this message only: an INVITE's final answer is retransmitted (Timer G) into later
      // tests, since this peer sends no ACK.
      const id = identity(bytes);
      const got = (await exchange(bytes)).filter((e) => e.msg.type === 'response' && e.msg.status >= 200 && e.msg.headers.get('CSeq') === id.cseq && e.msg.headers.get('Call-ID') === id.callId);
      const wire = got.map((e) => `${(e.msg as SipResponse).status} ${(e.msg as SipResponse).reason}`).join('; ') || 'no answer';
      report.push(`${file} | §${exp.section} | ${exp.valid ? 'valid' : exp.status}/${parsed} | ${exp.wire ?? 'no answer'}/${wire}`);
      expect(parsed).toBe(exp.valid ? 'valid' : String(exp.status));
      if (exp.wire === null) return void expect(got).toEqual([]);
      expect(got.map((e) => (e.msg as SipResponse).status)).toEqual([exp.wire]);
      const { msg, port } = got[0]!;
      expect(port).toBe(typeof exp.to === 'number' ? exp.to : 5060);
      if (exp.unsupported) expect(msg.headers.getAll('Unsupported').join(', ')).toBe(exp.unsupported);
      // The transaction user's refusals list what we allow (§21.4.6, §21.5.2); the parser's are stateless.
      if (exp.valid && (exp.wire === 405 || exp.wire === 501)) expect(msg.headers.get('Allow')).toContain('INVITE');
      if (exp.wire === 415 || exp.wire === 406) expect(msg.headers.get('Accept')).toBe('application/sdp');
    });
  }

  it('regression: the datagram that used to end the process (Session-Expires: 1800;refresher=a,b) gets 400, the gateway serves on', async () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.77\r\ns=-\r\nc=IN IP4 127.0.0.77\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n';
    const inv = `INVITE sip:+18990000001@127.0.0.1:${GW} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:5060;branch=z9hG4bKse1\r\nFrom: <sip:c@${HOST}>;tag=se1\r\nTo: <sip:+18990000001@127.0.0.1>\r\nCall-ID: se-regression\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nSupported: timer\r\nSession-Expires: 1800;refresher=a,b\r\nContact: <sip:c@${HOST}:5060>\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
    const got = (await exchange(Buffer.from(inv))).filter((e) => e.msg.headers.get('Call-ID') === 'se-regression' && e.msg.type === 'response' && e.msg.status >= 200);
    expect(got.map((e) => `${(e.msg as SipResponse).status} ${(e.msg as SipResponse).reason}`)).toEqual([expect.stringMatching(/^400 Invalid Session-Expires/)]);
    expect(gw.agents.find('torture', '18990000001')!.state).toBe('ready');
  });

  it('the gateway is still serving after all of them (an OPTIONS is answered), with no internal error', async () => {
    expect(await exchange(Buffer.alloc(0))).toEqual([]);
    expect([...gw.calls.sipStats.responsesOut.keys()]).toEqual(expect.arrayContaining([400, 404, 405, 406, 415, 416, 420, 501, 505]));
  });
});
