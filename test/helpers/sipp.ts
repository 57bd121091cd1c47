// Runs SIPp (sip-tester) for the integration tests and the SIP benchmark.
//
// runSipp() starts one SIPp process, waits for it to end (or kills it after
// timeoutSec + 5 s) and reads its trace files: the statistics CSV (-trace_stat
// -stf), the error log (-trace_err -error_file) and, when asked, the response
// times (-trace_rtt). SIPp runs headless (-nostdin, no -bg) in a directory of
// its own, binds to 127.0.0.1 only and gets free ports picked here.
//
// SIPp facts this relies on (SIPp 3.6.1):
// - -trace_rtt writes <scenario>_<pid>_rtt.csv in the working directory
//   ("Date_ms;response_time_ms;rtd_no"), only every -rtt_freq samples (default
//   200, the rest is lost at exit), so -rtt_freq 1 is passed. Times are whole
//   milliseconds: a sub-millisecond answer reads 0.
// - The statistics file gets one row per -fd period and a last row at exit;
//   SuccessfulCall(C) and FailedCall(C) there are the run's totals.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type SippTransport = 'udp' | 'tcp';

export interface SippOptions {
  /** File name in test/sipp (or a path), or 'uas' for SIPp's built-in UAS. */
  scenario: string;
  /** host:port to call; default 127.0.0.1:5070. Not used for 'uas'; null for a scenario that only
   *  answers (SIPp would send its responses to the remote host instead of the request's source). */
  target?: string | null;
  /** Request-URI user ([service], -s). */
  service?: string;
  transport?: SippTransport;
  /** SIP port of SIPp; 0 or unset picks a free one. */
  localPort?: number;
  /** Calls to place (UAC) or to answer before exiting (UAS); default 1. */
  calls?: number;
  /** Calls per rate period (-r); default 10. */
  rate?: number;
  /** Rate period in ms (-rp); default 1000. */
  ratePeriodMs?: number;
  /** Most calls open at once (-l). */
  limit?: number;
  /** Percent of packets SIPp drops on purpose (-lost). */
  lost?: number;
  /** Whole-run limit in s (-timeout, counted as failure); default 30. */
  timeoutSec?: number;
  /** Limit for each expected message in ms (-recv_timeout); default timeoutSec. */
  recvTimeoutMs?: number;
  /** Rows of an injection file (-inf, read SEQUENTIAL): one string per call
   *  for [field0], or an array for [field0];[field1]... */
  injection?: (string | string[])[];
  /** Record INVITE -> 200 times (-trace_rtt) into SippResult.rttMs. */
  traceRtt?: boolean;
  extraArgs?: string[];
  /** Directory SIPp runs in (its trace files go there); default a fresh temp
   *  dir, removed afterwards. */
  cwd?: string;
}

export interface SippResult {
  /** null when SIPp was killed. */
  exitCode: number | null;
  successful: number;
  failed: number;
  durationMs: number;
  /** SIPp's screen output (the last 64 kB). */
  stdout: string;
  stderr: string;
  /** True when SIPp was still running at timeoutSec + 5 s and was killed. */
  killed: boolean;
  localPort: number;
  /** SIPp's error log (unexpected messages, failed checks), read on failure. */
  errorLog?: string;
  /** One sample per call with a measured response time, in ms. */
  rttMs?: number[];
  /** The statistics file, one object per row (column name -> value). */
  statsCsv?: Record<string, string>[];
}

export const SIPP_BIN = process.env.SIPP_BIN ?? 'sipp';
const here = dirname(fileURLToPath(import.meta.url));
/** test/sipp, also when running compiled from dist/test/helpers (tsc copies no XML). */
export const SCENARIO_DIR = [resolve(here, '..', 'sipp'), resolve(here, '..', '..', '..', 'test', 'sipp')]
  .find((dir) => existsSync(join(dir, 'bench-call.xml'))) ?? resolve(here, '..', 'sipp');
const OUTPUT_CAP = 64 * 1024;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function portFree(port: number, kind: SippTransport): Promise<number | null> {
  return new Promise((done) => {
    if (kind === 'udp') {
      const sock = createSocket('udp4');
      sock.once('error', () => done(null));
      sock.bind(port, '127.0.0.1', () => {
        const got = sock.address().port;
        sock.close(() => done(got));
      });
    } else {
      const server = createServer();
      server.once('error', () => done(null));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        const got = typeof address === 'object' && address ? address.port : null;
        server.close(() => done(got));
      });
    }
  });
}

/** A port on 127.0.0.1 that is free for both UDP and TCP right now. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await portFree(0, 'udp');
    if (port !== null && (await portFree(port, 'tcp')) === port) return port;
  }
  throw new Error('no free port on 127.0.0.1');
}

/** Whether something listens on 127.0.0.1:port (from /proc, no probing). */
export async function listening(port: number, transport: SippTransport): Promise<boolean> {
  const want = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const table = await readFile(`/proc/net/${transport}`, 'utf8').catch(() => '');
  return table.split('\n').some((line) => {
    const [, local, , state] = line.trim().split(/\s+/);
    return local?.endsWith(want) === true && (transport === 'udp' || state === '0A');
  });
}

function parseCsv(text: string): Record<string, string>[] {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
  const header = (lines.shift() ?? '').split(';');
  return lines.map((line) => {
    const cells = line.split(';');
    return Object.fromEntries(header.map((name, i) => [name, cells[i] ?? '']));
  });
}

function scenarioArgs(scenario: string): string[] {
  if (scenario === 'uas') return ['-sn', 'uas'];
  return ['-sf', isAbsolute(scenario) ? scenario : join(SCENARIO_DIR, scenario)];
}

function buildArgs(opts: SippOptions, port: number, controlPort: number, dir: string, timeoutSec: number): string[] {
  const args: string[] = [];
  if (opts.scenario !== 'uas' && opts.target !== null) args.push(opts.target ?? '127.0.0.1:5070');
  args.push(...scenarioArgs(opts.scenario));
  args.push('-i', '127.0.0.1', '-bind_local', '-p', String(port), '-cp', String(controlPort));
  args.push('-t', opts.transport === 'tcp' ? 't1' : 'u1');
  if (opts.service !== undefined) args.push('-s', opts.service);
  args.push('-m', String(opts.calls ?? 1), '-r', String(opts.rate ?? 10));
  if (opts.ratePeriodMs !== undefined) args.push('-rp', String(opts.ratePeriodMs));
  if (opts.limit !== undefined) args.push('-l', String(opts.limit));
  if (opts.lost !== undefined) args.push('-lost', String(opts.lost));
  args.push('-timeout', `${timeoutSec}s`, '-timeout_error');
  args.push('-recv_timeout', String(opts.recvTimeoutMs ?? timeoutSec * 1000));
  args.push('-nostdin', '-trace_stat', '-stf', join(dir, 'stats.csv'), '-fd', '1');
  args.push('-trace_err', '-error_file', join(dir, 'errors.log'));
  if (opts.injection) args.push('-inf', join(dir, 'injection.csv'));
  if (opts.traceRtt) args.push('-trace_rtt', '-rtt_freq', '1');
  return [...args, ...(opts.extraArgs ?? [])];
}

async function readRtt(dir: string, pid: number | undefined): Promise<number[]> {
  const name = (await readdir(dir)).find((f) => f.endsWith(`_${pid}_rtt.csv`));
  if (!name) return [];
  const rows = parseCsv(await readFile(join(dir, name), 'utf8'));
  return rows.map((row) => Number(row['response_time_ms'])).filter((n) => Number.isFinite(n));
}

/** Runs SIPp once and reports how its calls went. Never rejects for failed calls. */
export async function runSipp(opts: SippOptions): Promise<SippResult> {
  const timeoutSec = opts.timeoutSec ?? 30;
  const dir = await mkdtemp(join(tmpdir(), 'sipp-'));
  const cwd = opts.cwd ?? dir;
  try {
    if (opts.injection) {
      const rows = opts.injection.map((row) => (Array.isArray(row) ? row : [row]).join(';') + ';');
      await writeFile(join(dir, 'injection.csv'), ['SEQUENTIAL', ...rows].join('\n') + '\n');
    }
    const port = opts.localPort || (await freePort());
    const args = buildArgs(opts, port, await freePort(), dir, timeoutSec);
    const started = Date.now();
    const child = spawn(SIPP_BIN, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-OUTPUT_CAP)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-OUTPUT_CAP)));
    let killed = false;
    const killTimer = setTimeout(() => {
      killed = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }, (timeoutSec + 5) * 1000);
    const exitCode = await new Promise<number | null>((done) => {
      child.once('error', (err) => {
        stderr += `\n${err.message}`;
        done(null);
      });
      child.once('close', (code) => done(code));
    });
    clearTimeout(killTimer);
    live.delete(child);
    const durationMs = Date.now() - started;

    const statsCsv = parseCsv(await readFile(join(dir, 'stats.csv'), 'utf8').catch(() => ''));
    const last = statsCsv.at(-1) ?? {};
    const successful = Number(last['SuccessfulCall(C)'] ?? 0);
    const failed = Number(last['FailedCall(C)'] ?? 0);
    const result: SippResult = { exitCode, successful, failed, durationMs, stdout, stderr, killed, localPort: port, statsCsv };
    if (opts.traceRtt) result.rttMs = await readRtt(cwd, child.pid);
    if (exitCode !== 0 || failed > 0 || killed) {
      result.errorLog = await readFile(join(dir, 'errors.log'), 'utf8').catch(() => '(no error log)');
    }
    return result;
  } finally {
    if (!opts.cwd) await rm(dir, { recursive: true, force: true });
  }
}

/** One line for test failure messages: counts, exit code and the error log. */
export function describeSipp(result: SippResult): string {
  const head = `sipp exit=${result.exitCode} ok=${result.successful} failed=${result.failed}` +
    `${result.killed ? ' (killed at timeout)' : ''} in ${result.durationMs} ms`;
  return [head, result.stderr.trim(), result.errorLog?.trim() ?? ''].filter((s) => s).join('\n');
}

export interface SippUas {
  port: number;
  transport: SippTransport;
  pid: number | undefined;
  /** Stops the UAS (SIGTERM, then SIGKILL) and returns its output. */
  stop(): Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
}

/** Starts SIPp's built-in UAS (sipp -sn uas) on 127.0.0.1:port (0 = a free
 *  port) and resolves once it listens. */
export async function startSippUas(port = 0, transport: SippTransport = 'udp'): Promise<SippUas> {
  const sipPort = port || (await freePort());
  const args = ['-sn', 'uas', '-i', '127.0.0.1', '-bind_local', '-p', String(sipPort), '-cp', String(await freePort()),
    '-t', transport === 'tcp' ? 't1' : 'u1', '-nostdin'];
  const child = spawn(SIPP_BIN, args, { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-OUTPUT_CAP)));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-OUTPUT_CAP)));
  const closed = new Promise<number | null>((done) => {
    child.once('error', (err) => {
      stderr += `\n${err.message}`;
      done(null);
    });
    child.once('close', (code) => done(code));
  });
  let exited = false;
  void closed.then(() => {
    exited = true;
    live.delete(child);
  });
  const deadline = Date.now() + 5000;
  while (!(await listening(sipPort, transport))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sipp uas did not start on port ${sipPort}: ${stderr.trim() || stdout.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: sipPort,
    transport,
    pid: child.pid,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 2000);
        await closed;
        clearTimeout(force);
      }
      return { exitCode: await closed, stdout, stderr };
    },
  };
}
