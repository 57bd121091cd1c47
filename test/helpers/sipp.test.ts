import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSipp, runSipp, startSippUas, type SippUas } from './sipp.js';

describe('SIPp runner', () => {
  let uas: SippUas;

  beforeAll(async () => {
    uas = await startSippUas(0, 'udp');
  });

  afterAll(async () => {
    await uas?.stop();
  });

  it('runs bench-call.xml against the built-in UAS and reads its stats', async () => {
    const result = await runSipp({
      scenario: 'bench-call.xml',
      target: `127.0.0.1:${uas.port}`,
      injection: ['+18990000001', '+18990000002', '+18990000003', '+18990000004', '+18990000005'],
      calls: 5,
      rate: 50,
      traceRtt: true,
      timeoutSec: 20,
    });
    expect(result.exitCode, describeSipp(result)).toBe(0);
    expect(result.successful).toBe(5);
    expect(result.failed).toBe(0);
    expect(result.statsCsv?.length).toBeGreaterThan(0);
    // SIPp's response times are whole milliseconds: a local UAS often answers in "0".
    expect(result.rttMs).toHaveLength(5);
    for (const ms of result.rttMs ?? []) expect(ms).toBeGreaterThanOrEqual(0);
  }, 30_000);

  it('reports failed calls and the error log', async () => {
    // The built-in UAS sends no 100 Trying and answers 180/200, so the
    // unknown-number scenario (expects 404) fails on an unexpected message.
    const result = await runSipp({
      scenario: 'unknown-number.xml',
      target: `127.0.0.1:${uas.port}`,
      service: '+18990009999',
      timeoutSec: 10,
    });
    expect(result.exitCode).toBe(1);
    expect(result.successful).toBe(0);
    expect(result.failed).toBe(1);
    expect(result.errorLog).toMatch(/unexpected message/i);
  }, 30_000);
});
