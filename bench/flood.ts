/**
 * npm run bench:flood: a trusted carrier's calls while one untrusted source and one trusted but
 * abusive source each flood the gateway with INVITEs (default 10 000/s each). The gateway, the
 * flood and the carrier (SIPp, test/sipp/bench-call.xml, a different agent per call) are three
 * processes. The same carrier run without the flood, in the same bench, is the reference: the
 * figure is the carrier's success and its INVITE -> 200 p50/p99 with the flood beside without.
 *   npm run bench:flood [-- <floodRatePerSource> <carrierCalls> <carrierRate>]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSipp, type SippResult } from '../test/helpers/sipp.js';
import { procCpuSeconds, procStat } from './fuzz/driver.js';
import { metric, startGatewayChild } from './fuzz/gateway.js';
import { runMain } from './media/procs.js';
import { writeResults } from './results.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [floodRate = 10_000, calls = 1000, callRate = 50] = process.argv.slice(2).map(Number);
const SIP = 25200;
const HTTP = 25201;
const AGENTS = 400;
const UNTRUSTED = '127.0.2.1';
const ABUSIVE = '127.0.3.1';

const config = `gateway:
  name: flood
  http: { host: 127.0.0.1, port: ${HTTP} }
  limits: { maxCalls: 5000, maxCallsPerSecond: 2500, retryAfterSeconds: 1 }
  logLevel: error
media: { host: 127.0.0.1, rtpPortMin: 43000, rtpPortMax: 44999 }
profiles:
  - name: carrier
    listen: { host: 127.0.0.1, port: ${SIP}, transports: [udp] }
    # The carrier (127.0.0.1) and the abusive source's network are trusted; 127.0.2.0/24 is not.
    trustedSources: [127.0.0.1/32, 127.0.3.0/24]
    maxCallSeconds: 0
    agents:
      - { range: { from: "+18990000001", count: ${AGENTS} }, idPrefix: fl- }
`;

const pct = (xs: number[], p: number): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
};

function carrier(n = calls): Promise<SippResult> {
  const numbers = Array.from({ length: AGENTS }, (_, i) => `+1899${String(i + 1).padStart(7, '0')}`);
  return runSipp({ scenario: 'bench-call.xml', target: `127.0.0.1:${SIP}`, calls: n, rate: callRate, limit: AGENTS / 2, injection: numbers, traceRtt: true, timeoutSec: Math.ceil(n / callRate) + 30 });
}

async function main(): Promise<number> {
  const started = new Date();
  const dir = await mkdtemp(path.join(tmpdir(), 'vagw-flood-'));
  const file = path.join(dir, 'gateway.yaml');
  await writeFile(file, config);
  const gw = await startGatewayChild(ROOT, file, HTTP);

  // Warm-up (JIT, media workers, first port binds), not measured.
  await carrier(Math.min(calls, 300));
  const c0 = procCpuSeconds(gw.pid) ?? 0;
  let t = performance.now();
  const quiet = await carrier();
  const quietCpu = ((procCpuSeconds(gw.pid) ?? 0) - c0) / ((performance.now() - t) / 1000);
  const m0 = { untrusted: await metric(HTTP, 'vagw_sip_untrusted_dropped_total'), limited: await metric(HTTP, 'vagw_sip_rate_limited_total'), refused404: 0 };
  const seconds = Math.ceil(calls / callRate) + 4;
  const flood = spawn(process.execPath, [path.join(ROOT, 'dist', 'bench', 'flood-gen.js'), String(SIP), String(seconds), `${UNTRUSTED}:${floodRate}`, `${ABUSIVE}:${floodRate}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let floodOut = '';
  flood.stdout!.on('data', (d: Buffer) => (floodOut += d.toString()));
  const floodDone = new Promise<void>((r) => flood.on('exit', () => r()));
  await new Promise((r) => setTimeout(r, 2000));
  const rssDuring = procStat(gw.pid);
  const c1 = procCpuSeconds(gw.pid) ?? 0;
  t = performance.now();
  const loud = await carrier();
  const loudCpu = ((procCpuSeconds(gw.pid) ?? 0) - c1) / ((performance.now() - t) / 1000);
  await floodDone;
  const sent = (JSON.parse(floodOut.trim() || '{"sent":{}}') as { sent: Record<string, number> }).sent;
  const m1 = { untrusted: await metric(HTTP, 'vagw_sip_untrusted_dropped_total'), limited: await metric(HTTP, 'vagw_sip_rate_limited_total') };
  const internal = await metric(HTTP, 'vagw_internal_errors_total');
  const exit = await gw.stop();

  const row = (r: SippResult) => ({ successful: r.successful, failed: r.failed, p50Ms: pct(r.rttMs ?? [], 50), p99Ms: pct(r.rttMs ?? [], 99) });
  const q = row(quiet);
  const l = row(loud);
  const out = {
    started: started.toISOString(), floodRatePerSource: floodRate, carrier: { calls, callRate }, quiet: q, flood: l,
    gatewayCpu: { quiet: Math.round(quietCpu * 1000) / 10, flood: Math.round(loudCpu * 1000) / 10 },
    floodSent: sent, untrustedDropped: m1.untrusted - m0.untrusted, rateLimited: m1.limited - m0.limited, gatewayRssDuringMB: rssDuring?.rssMB, internalErrors: internal, gatewayExit: exit,
  };
  const saved = await writeResults('flood', started, out);
  const ratio = (a: number | null, b: number | null) => (a && b ? (b / a).toFixed(2) : 'n/a');
  process.stdout.write(
    [
      `bench:flood: carrier ${calls} calls at ${callRate}/s; flood ${floodRate}/s from ${UNTRUSTED} (untrusted) and ${ABUSIVE} (trusted, abusive)`,
      '| carrier | calls ok | failed | INVITE->200 p50 | p99 | gateway CPU |',
      '|---|---|---|---|---|---|',
      `| without flood (reference) | ${q.successful} | ${q.failed} | ${q.p50Ms} ms | ${q.p99Ms} ms | ${out.gatewayCpu.quiet} % of a core |`,
      `| with flood | ${l.successful} | ${l.failed} | ${l.p50Ms} ms | ${l.p99Ms} ms | ${out.gatewayCpu.flood} % of a core |`,
      `| ratio flood / reference | ${(l.successful / Math.max(1, q.successful)).toFixed(3)} | | ${ratio(q.p50Ms, l.p50Ms)} | ${ratio(q.p99Ms, l.p99Ms)} | ${(loudCpu / Math.max(0.001, quietCpu)).toFixed(1)} |`,
      `flood sent: ${JSON.stringify(sent)}; untrusted dropped unread: ${out.untrustedDropped}; abusive source rate-limited (dropped unread): ${out.rateLimited}; internal errors: ${internal}; gateway exit ${exit}`,
      `raw results: ${saved}`,
    ].join('\n') + '\n',
  );
  return l.failed === 0 && l.successful === calls && q.failed === 0 && internal === 0 ? 0 : 1;
}

runMain('bench:flood', main);
