/** The gateway under fuzz, in a process of its own: started from the built CLI, stopped with SIGTERM. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface GatewayChild {
  child: ChildProcess;
  pid: number;
  /** Error-level log lines (internal errors contained, etc.). */
  errors: string[];
  exitCode: Promise<number | null>;
  stop(): Promise<number | null>;
}

export async function startGatewayChild(root: string, config: string, httpPort: number): Promise<GatewayChild> {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'src', 'cli.js'), 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const errors: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (/"level":(50|60)/.test(l) && errors.length < 100) errors.push(l);
  });
  child.stderr!.on('data', (d: Buffer) => errors.length < 100 && errors.push(d.toString()));
  const exitCode = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    pid: child.pid!,
    errors,
    exitCode,
    async stop() {
      child.kill('SIGTERM');
      return exitCode;
    },
  };
}

/** One counter family of /metrics summed over its labels (or only the samples with `label`, e.g. 'limit="idle"'). */
export async function metric(httpPort: number, name: string, label?: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    if (label && !line.includes(label)) continue;
    sum += Number(line.split(' ').pop());
  }
  return sum;
}
