/**
 * npm run fuzz:sip [-- <count> [<rate/s>] [<seed>]]: the mutation fuzzer against the gateway in a
 * process of its own (test/fixtures/fuzz-gateway.yaml: SIP 127.0.0.1:25190 UDP+TCP). Default
 * 1 000 000 messages at 5 000/s, 20 % over TCP cut into partial frames, 2 000 idle connections from
 * 25 loopback addresses, 20 slow writers, an OPTIONS liveness check every 1 000 messages, RSS and
 * open descriptors of the gateway before and after, then a normal SIPp call. Exit 1 on a crash,
 * a hang (failed liveness check), an internal error or a failed call.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSipp } from '../../test/helpers/sipp.js';
import { runMain } from '../media/procs.js';
import { writeResults } from '../results.js';
import { runFuzz, procStat } from './driver.js';
import { metric, startGatewayChild } from './gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const [count = 1_000_000, rate = 5000, seed = 4475] = process.argv.slice(2).map(Number);
const HTTP = 25191;

async function main(): Promise<number> {
  const started = new Date();
  const gw = await startGatewayChild(ROOT, path.join(ROOT, 'test', 'fixtures', 'fuzz-gateway.yaml'), HTTP);
  const idle = procStat(gw.pid);
  process.stdout.write(`fuzz:sip ${count} messages at ${rate}/s (seed ${seed}) against pid ${gw.pid}, idle RSS ${idle?.rssMB} MB, ${idle?.fds} fds\n`);
  const r = await runFuzz({
    host: '127.0.0.1', port: 25190, root: ROOT, count, ratePerSec: rate, seed, tcpShare: 0.2, livenessEvery: 1000,
    idleConnections: 2000, idleSources: 25, slowWriters: 20, pid: gw.pid, number: '+18990000001', settleMs: 3000,
  });
  // What the fuzz started ends on the protocol timers: transactions after 64*T1 = 32 s (Timer
  // J/H/L), an answered INVITE never ACKed after 32 s, then its BYE's transaction after 32 s more.
  if (!r.crashed) await new Promise((res) => setTimeout(res, 70_000));
  const settled = procStat(gw.pid);
  const internalErrors = r.crashed ? NaN : await metric(HTTP, 'vagw_internal_errors_total');
  const parseErrors = r.crashed ? NaN : await metric(HTTP, 'vagw_sip_parse_errors_total');
  // What is still held once every timer has run: transactions and calls should be back to none.
  const leftover = r.crashed ? undefined : { transactions: await metric(HTTP, 'vagw_sip_transactions_active'), calls: await metric(HTTP, 'vagw_calls_active'), mediaSessions: await metric(HTTP, 'vagw_media_sessions') };
  const sipp = r.crashed
    ? undefined
    : await runSipp({ scenario: 'livevox-call.xml', target: '127.0.0.1:25190', service: '+18990000010', calls: 1, timeoutSec: 20 });
  const exit = r.crashed ? null : await gw.stop();
  const out = { started: started.toISOString(), count, rate, seed, ...r, settled, leftover, internalErrors, parseErrors, sippCall: sipp ? { successful: sipp.successful, failed: sipp.failed } : null, gatewayExit: exit, errors: gw.errors.slice(0, 10) };
  const file = await writeResults('fuzz-sip', started, out);
  const rows = [
    ['messages sent (UDP / TCP)', `${r.sent} (${r.udp} / ${r.tcp})`],
    ['achieved rate', `${r.ratePerSec}/s over ${r.elapsedS} s`],
    ['crashes', r.crashed ? 1 : 0],
    ['hangs (failed OPTIONS liveness checks)', `${r.liveness.failures} of ${r.liveness.checks} (slowest answer ${r.liveness.maxMs} ms)`],
    ['internal errors contained', internalErrors],
    ['parse errors counted', parseErrors],
    ['TCP connections for fuzzing / closed by the gateway', `${r.tcpConnections} / ${r.tcpClosedByGateway}`],
    ['idle connections: opened / refused at once (per-source cap) / closed by deadline / still open', `${r.idle.opened} / ${r.idle.refusedAtOnce} / ${r.idle.closedByGateway - r.idle.refusedAtOnce} / ${r.idle.stillOpen}`],
    ['slow writers closed by the message deadline', `${r.slowWriters.closedByGateway} of ${r.slowWriters.opened}`],
    ['gateway RSS before -> end of fuzz -> 70 s later (every protocol timer run)', `${r.before?.rssMB} -> ${r.after?.rssMB} -> ${settled?.rssMB} MB`],
    ['gateway RSS every 50 000 messages (MB)', r.samples.map((x) => x.rssMB).join(' ')],
    ['gateway open fds before -> after -> 70 s later', `${r.before?.fds} -> ${r.after?.fds} -> ${settled?.fds}`],
    ['held 70 s after the fuzz: transactions / calls / media sessions', leftover ? `${leftover.transactions} / ${leftover.calls} / ${leftover.mediaSessions}` : 'n/a'],
    ['SIPp call afterwards', sipp ? `${sipp.successful} ok, ${sipp.failed} failed` : 'not run (crashed)'],
    ['gateway exit on SIGTERM', String(exit)],
  ];
  process.stdout.write(rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n') + `\nraw results: ${file}\n`);
  if (gw.errors.length) process.stdout.write(`gateway error lines:\n${gw.errors.slice(0, 5).join('\n')}\n`);
  const ok = !r.crashed && r.liveness.failures === 0 && internalErrors === 0 && sipp?.successful === 1 && exit === 0;
  if (!ok) gw.child.kill('SIGKILL');
  return ok ? 0 : 1;
}

runMain('fuzz:sip', main, 1);
