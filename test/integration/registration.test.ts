/**
 * Outbound registration against SIPp playing a registrar that demands digest and checks the
 * credentials with its own implementation (verifyauth): challenge, registration, the refresh
 * before the granted 3 s run out (credentials checked again), and the unregister on stop.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SipEndpoint } from '../../src/sip/endpoint.js';
import { OutboundRegistration } from '../../src/sip/registration.js';
import { describeSipp, freePort, runSipp } from '../helpers/sipp.js';

const log = pino({ level: 'silent' });

describe('outbound registration against SIPp as registrar', () => {
  it('registers with digest (MD5, qop=auth), refreshes in time with valid credentials, unregisters on stop', async () => {
    const port = await freePort();
    const sipp = runSipp({ scenario: 'registrar-digest.xml', target: null, localPort: port, calls: 1, timeoutSec: 20 });
    // SIPp binds within a few ms; a probe datagram would be taken for a request of the scenario.
    await new Promise((r) => setTimeout(r, 500));
    const ep = new SipEndpoint({ host: '127.0.0.1', port: 0, transports: ['udp'], advertisedHost: '127.0.0.1', logger: log });
    await ep.start();
    try {
      const reg = new OutboundRegistration(ep, {
        registrar: { transport: 'udp', address: '127.0.0.1', port },
        domain: 'sip:vagw.test',
        aor: '<sip:70001@vagw.test>',
        contact: `<sip:70001@127.0.0.1:${ep.port}>`,
        username: '70001',
        password: 'phone-pass',
        log,
      });
      reg.start();
      const t0 = Date.now();
      for (; reg.state.registrations < 2 && Date.now() - t0 < 8000; ) await new Promise((r) => setTimeout(r, 50));
      expect(reg.state).toMatchObject({ state: 'registered', registrations: 2, failures: 0 });
      await reg.stop();
      expect(reg.state.state).toBe('stopped');
      const r = await sipp;
      expect(r.exitCode, describeSipp(r)).toBe(0);
      expect(r.successful).toBe(1);
    } finally {
      await ep.stop();
    }
  }, 30_000);
});
