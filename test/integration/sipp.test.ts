/**
 * The gateway against SIPp, the tool carriers and engineers load-test with: each scenario in
 * test/sipp runs against the started gateway and must complete with zero failed calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server.js';
import { startFixture } from '../helpers/gateway.js';
import { startLossProxy } from '../helpers/loss-proxy.js';
import { describeSipp, runSipp, type SippOptions } from '../helpers/sipp.js';

let gw: RunningGateway;
const LV = '127.0.0.1:25270';

beforeAll(async () => {
  gw = await startFixture('sipp-gateway.yaml');
});
afterAll(async () => {
  await gw.shutdown(0);
});

async function expectPass(opts: SippOptions, calls = opts.calls ?? 1): Promise<void> {
  const r = await runSipp({ timeoutSec: 20, ...opts, calls });
  expect(r.exitCode, describeSipp(r)).toBe(0);
  expect(r.failed, describeSipp(r)).toBe(0);
  expect(r.successful, describeSipp(r)).toBe(calls);
}

describe('SIPp scenarios against the gateway', () => {
  it('a LiveVox-shaped call: three Record-Routes, no To tag, PCMU + telephone-event, ACK, BYE', async () => {
    await expectPass({ scenario: 'livevox-call.xml', target: LV, service: '+18990000001' });
    await expect.poll(() => gw.agents.find('lv', '18990000001')!.state).toBe('ready');
  });

  it('the same call over TCP', async () => {
    await expectPass({ scenario: 'livevox-call.xml', target: LV, service: '+18990000002', transport: 'tcp' });
  });

  it('a BYE sent by the gateway (maximum duration) follows the route set', async () => {
    await expectPass({ scenario: 'gateway-bye.xml', target: '127.0.0.1:25272', service: '+18990000101' });
  });

  it('a BYE sent by the gateway over TCP', async () => {
    await expectPass({ scenario: 'gateway-bye.xml', target: '127.0.0.1:25272', service: '+18990000102', transport: 'tcp' });
  });

  it('CANCEL before the answer: 200 to the CANCEL, 487 to the INVITE, agent free again', async () => {
    await expectPass({ scenario: 'cancel.xml', target: '127.0.0.1:25274', service: '+18990000201' });
    await expect.poll(() => gw.agents.find('ring', '18990000201')!.state).toBe('ready');
  });

  it('hold and resume re-INVITEs', async () => {
    await expectPass({ scenario: 'hold-resume.xml', target: LV, service: '+18990000003' });
  });

  it('INFO with application/dtmf-relay', async () => {
    await expectPass({ scenario: 'info-dtmf.xml', target: LV, service: '+18990000004' });
  });

  it('OPTIONS keep-alive', async () => {
    await expectPass({ scenario: 'options.xml', target: LV, service: '+18990000001' });
  });

  it('unknown number: 404', async () => {
    await expectPass({ scenario: 'unknown-number.xml', target: LV, service: '+18997654321' });
  });

  it('codec mismatch: 488', async () => {
    await expectPass({ scenario: 'codec-mismatch.xml', target: LV, service: '+18990000005' });
  });

  it('every ACK and the first BYE lost: the BYE retransmission ends the call, the agent is free for the next', async () => {
    // The loss pattern behind a once-flaky run of the 10% test: SIPp took a retransmitted 200 for
    // the INVITE as the answer to its lost BYE (it does not check CSeq unless responses are
    // matched to transactions), counted the call done while the gateway still held it waiting for
    // the ACK, and the next calls got 486. The scenario now matches by transaction; the gateway
    // must accept the BYE before the ACK (RFC 3261 15.1.2: the UAS may be BYE'd once it sent 2xx).
    const proxy = await startLossProxy({ address: '127.0.0.1', port: 25270 }, (line, nth) => line.startsWith('ACK') || (line.startsWith('BYE') && nth === 1));
    try {
      await expectPass({ scenario: 'livevox-call.xml', target: LV, service: '+18990000007', rate: 1, limit: 1, extraArgs: ['-rsa', `127.0.0.1:${proxy.port}`], timeoutSec: 30 }, 2);
      expect(proxy.dropped.filter((l) => l.startsWith('BYE'))).toHaveLength(1);
      expect(proxy.dropped.filter((l) => l.startsWith('ACK')).length).toBeGreaterThanOrEqual(2);
    } finally {
      proxy.close();
    }
    await expect.poll(() => gw.agents.find('lv', '18990000007')!.state).toBe('ready');
  });

  it('calls complete with 10% packet loss (retransmissions recover every message)', async () => {
    // SIPp drops 10% of the messages it receives; RFC 3261 timers on both sides must recover.
    // Each loss costs a retransmission interval (500 ms doubling, RFC 3261 §17.1.1.2): ten calls
    // one after the other may take well over the default 30 s test budget; SIPp's own 90 s bounds it.
    await expectPass({ scenario: 'livevox-call.xml', target: LV, service: '+18990000006', lost: 10, rate: 2, limit: 1, timeoutSec: 90 }, 10);
  }, 100_000);
});
