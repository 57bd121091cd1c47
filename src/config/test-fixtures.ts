// Helpers for the config tests: write YAML fixtures into a fresh temp directory
// and run the loader on them. Not used at runtime.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { checkConfig } from './load.js';
import type { ConfigProblem } from './problems.js';

/** A minimal valid profile; tests override single keys. */
export function baseProfile(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'p1',
    listen: { host: '127.0.0.1', port: 5070, transports: ['udp'] },
    trustedSources: ['10.0.0.0/8'],
    agents: [{ id: 'a1', number: '+18990000001' }],
    ...overrides,
  };
}

/** Write files (objects are YAML-stringified) into a new temp dir; returns the dir. */
export function writeFixture(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vagw-config-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), typeof content === 'string' ? content : stringify(content));
  }
  return dir;
}

/** checkConfig on dir/gateway.yaml, with file names made relative to dir. */
export function problemsIn(dir: string, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  return checkConfig(path.join(dir, 'gateway.yaml'), env).map((p) => ({ ...p, file: path.relative(dir, p.file) }));
}

/** Problems for gateway.yaml (default: one profile p1.yaml) plus the given files. */
export function problemsFor(files: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  return problemsIn(writeFixture({ 'gateway.yaml': { profiles: ['p1.yaml'] }, ...files }), env);
}

/** Problems when p1.yaml is baseProfile(overrides). */
export function profileProblems(overrides: Record<string, unknown>): ConfigProblem[] {
  return problemsFor({ 'p1.yaml': baseProfile(overrides) });
}
