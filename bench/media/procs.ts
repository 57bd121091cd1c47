/**
 * Child processes of the media bench (the gateway, the engine, the relay, the load generator)
 * and what /proc says about them: CPU ticks (utime + stime, all threads) and RSS.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rpc } from './ipc.js';

const live = new Set<ChildProcess>();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Last lines a child printed (for failure reports), and how many warn/error log lines it wrote. */
export interface Output { tail: string; warnings: number; errors: number; lines: string[] }

function capture(child: ChildProcess, out: Output): void {
  let partial = '';
  const take = (d: Buffer): void => {
    out.tail = (out.tail + d.toString()).slice(-6000);
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      // pino levels: 40 warn, 50 error, 60 fatal
      const level = /"level":(\d+)/.exec(l)?.[1];
      if (level === '40') out.warnings++;
      else if (level && Number(level) >= 50) out.errors++;
      if (level && Number(level) >= 40 && out.lines.length < 200) out.lines.push(l.slice(0, 400));
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
}

export interface Helper { child: ChildProcess; rpc: Rpc; out: Output }

/** Fork a compiled helper (dist/bench/media/<name>.js) with an IPC channel. */
export function forkHelper(distDir: string, name: string): Helper {
  const child = fork(join(distDir, `${name}.js`), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const out: Output = { tail: '', warnings: 0, errors: 0, lines: [] };
  capture(child, out);
  return { child, rpc: new Rpc(child, name), out };
}

export interface Gateway { child: ChildProcess; out: Output; rpc: Rpc | null }

/**
 * Start `vagw start --config <file>` (or, with `internal`, bench/media/gateway.js, which adds an
 * IPC channel for the media workers' statistics) and resolve once /healthz answers 200.
 */
export async function startGateway(root: string, configPath: string, httpPort: number, internal: boolean): Promise<Gateway> {
  // Diagnostics: BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the gateway
  // alone (node refuses --cpu-prof in NODE_OPTIONS, which would profile every process anyway).
  const nodeArgs = (process.env['BENCH_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child = internal
    ? fork(join(root, 'dist', 'bench', 'media', 'gateway.js'), [configPath], { cwd: root, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: nodeArgs })
    : spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'src', 'cli.js'), 'start', '--config', configPath], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const rpc = internal ? new Rpc(child, 'gateway') : null;
  return { child, out: await watchUntilUp(child, 'gateway', `http://127.0.0.1:${httpPort}/healthz`), rpc };
}

/**
 * Start `vagw sandbox --config <file>` (the contact-center simulators and their call placers in a
 * process of their own) and resolve once the simulator at `simPort` answers.
 */
export async function startSandboxProcess(root: string, configPath: string, simPort: number): Promise<Gateway> {
  const child = spawn(process.execPath, [join(root, 'dist', 'src', 'cli.js'), 'sandbox', '--config', configPath], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, out: await watchUntilUp(child, 'sandbox', `http://127.0.0.1:${simPort}/__sim/state`), rpc: null };
}

/** Track a started child (its output, kill at exit) and wait, at most 20 s, until `url` answers 200. */
async function watchUntilUp(child: ChildProcess, what: string, url: string): Promise<Output> {
  const out: Output = { tail: '', warnings: 0, errors: 0, lines: [] };
  child.on('error', (e) => (out.tail += `\n[spawn error] ${e.message}`));
  live.add(child);
  child.once('exit', () => live.delete(child));
  capture(child, out);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before it started\n${out.tail.trim()}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return out;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not answer ${new URL(url).pathname} within 20 s\n${out.tail.trim()}`);
    }
    await sleep(100);
  }
}

export async function stopChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(force);
}

/** Last resort (process exit): kill whatever is still running, synchronously. */
export function killAll(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process (all its threads), in clock ticks. */
export function cpuTicks(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

export function rssKb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Whole-machine CPU time from /proc/stat: busy and total jiffies. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return { busy: total - idle, total };
}

/** Run a bench's main and exit with its code; a throw is printed with its stack and exits `failCode`. */
export function runMain(label: string, main: () => Promise<number>, failCode = 2): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${label} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(failCode);
    },
  );
}

/**
 * Make a bench stop by itself and clean up: SIGINT/SIGTERM run `cleanup` then exit 2, a process
 * exit kills what is left, and a watchdog kills everything after `limitMs`.
 */
export function guardRun(name: string, limitMs: number, cleanup: () => Promise<void>): void {
  const onSignal = (): void => {
    console.error(`${name} interrupted: stopping its processes`);
    void cleanup().finally(() => process.exit(2));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAll);
  const watchdog = setTimeout(() => {
    console.error(`${name} exceeded ${limitMs / 60_000} minutes: killing its processes`);
    killAll();
    process.exit(2);
  }, limitMs);
  watchdog.unref();
}
