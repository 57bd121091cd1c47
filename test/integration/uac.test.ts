/**
 * The gateway as UAC (it places the INVITE, as toward an agent's phone) against SIPp playing the
 * called UAS: SIPp's built-in UAS and the uas-*.xml scenarios in test/sipp, over UDP and TCP.
 * The SIP endpoint and UA are created directly; ports 25770-25789.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { SipEndpoint } from '../../src/sip/endpoint.js';
import type { DialogEndReason } from '../../src/sip/dialog.js';
import type { SippTransport } from '../helpers/sipp.js';
import { describeSipp, listening, runSipp, type SippResult } from '../helpers/sipp.js';
import { UserAgent } from '../../src/sip/ua.js';
import { invite, InviteError, type InviteProgress, type OutgoingInvite } from '../../src/sip/uac.js';

const GW_PORT = 25770;
const log = pino({ level: 'silent' });
const OFFER = 'v=0\r\no=vagw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 25788 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';

let ep: SipEndpoint;
let ua: UserAgent;

beforeAll(async () => {
  ep = new SipEndpoint({ host: '127.0.0.1', port: GW_PORT, transports: ['udp', 'tcp'], advertisedHost: '127.0.0.1', logger: log });
  await ep.start();
  ua = new UserAgent(ep, { userAgent: 'vagw-test', sessionTimers: { minSE: 90, defaultExpires: 1800 }, logger: log });
});
afterAll(async () => {
  await ep.stop();
});

/** Starts SIPp as UAS on `port`, runs `call` once it listens, and returns SIPp's verdict. */
async function againstSipp(scenario: string, transport: SippTransport, port: number, call: (out: OutgoingInvite) => Promise<void>): Promise<SippResult> {
  const run = runSipp({ scenario, transport, localPort: port, target: `127.0.0.1:${GW_PORT}`, calls: 1, timeoutSec: 15 });
  const deadline = Date.now() + 5000;
  while (!(await listening(port, transport))) {
    if (Date.now() > deadline) throw new Error(`SIPp did not listen on ${port}: ${describeSipp(await run)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const out = invite(ua, {
    destination: { transport, address: '127.0.0.1', port },
    uri: `sip:agent1@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`,
    from: '"Virtual Agent" <sip:gateway@127.0.0.1>',
    to: '<sip:agent1@127.0.0.1>',
    sdp: OFFER,
    logger: log,
  });
  // A SIPp that fails ends early: report its verdict instead of waiting for the call forever.
  let finished = false;
  const sippEnded = run.then((r) => {
    if (!finished) throw new Error(`SIPp ended before the call did: ${describeSipp(r)}`);
  });
  await Promise.race([call(out).finally(() => (finished = true)), sippEnded]);
  return run;
}

function ended(reasonOf: { on(e: 'terminated', fn: (r: DialogEndReason) => void): () => void }): Promise<DialogEndReason> {
  return new Promise((r) => reasonOf.on('terminated', r));
}

function expectPass(r: SippResult): void {
  expect(r.exitCode, describeSipp(r)).toBe(0);
  expect(r.successful, describeSipp(r)).toBe(1);
}

describe.each([
  ['udp' as const, 25771],
  ['tcp' as const, 25781],
])('gateway as UAC over %s', (transport, base) => {
  it("SIPp's built-in UAS: 180, 200 with SDP, our ACK, our BYE", async () => {
    const r = await againstSipp('uas', transport, base, async (out) => {
      const progress: number[] = [];
      out.on('progress', (p: InviteProgress) => progress.push(p.status));
      const { dialog, sdp } = await out.answered;
      expect(progress).toContain(180);
      expect(sdp).toMatch(/^m=audio \d+ RTP\/AVP 0/m);
      expect(dialog.role).toBe('uac');
      const why = ended(dialog);
      await dialog.bye();
      expect(await why).toBe('local-bye');
    });
    expectPass(r);
  });

  it('ring, answer with Record-Route (ACK along the reversed route set), then SIPp hangs up', async () => {
    const r = await againstSipp('uas-ring-answer-bye.xml', transport, base + 1, async (out) => {
      const { dialog } = await out.answered;
      expect(ua.dialogs.get(dialog.id)).toBe(dialog);
      expect(await ended(dialog)).toBe('remote-bye');
      expect(ua.dialogs.has(dialog.id)).toBe(false);
    });
    expectPass(r);
  });

  it('486 Busy Here rejects the INVITE (ACKed by the transaction)', async () => {
    const r = await againstSipp('uas-busy.xml', transport, base + 2, async (out) => {
      const err = (await out.answered.catch((e: unknown) => e)) as InviteError;
      expect(err).toBeInstanceOf(InviteError);
      expect([err.kind, err.status]).toEqual(['rejected', 486]);
    });
    expectPass(r);
  });

  it('CANCEL while ringing: 487, with a Reason header', async () => {
    const r = await againstSipp('uas-ring-cancel.xml', transport, base + 3, async (out) => {
      out.on('progress', (p: InviteProgress) => {
        if (p.status === 180) out.cancel({ protocol: 'SIP', cause: 487, text: 'Agent did not answer' });
      });
      const err = (await out.answered.catch((e: unknown) => e)) as InviteError;
      expect([err.kind, err.status]).toEqual(['cancelled', 487]);
    });
    expectPass(r);
  });
});
