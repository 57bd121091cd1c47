// Problem reporting shared by every config stage. Problems are collected, never
// thrown one by one, so that a user fixing a config sees every mistake at once.

export interface ConfigProblem {
  /** File the problem is in, as the user would type it (relative paths stay relative). */
  file: string;
  /** Dotted key path such as `agents[3].number`; `(yaml)`, `(file)` or `(root)` for whole-file problems. */
  key: string;
  problem: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    const n = problems.length;
    super(`invalid configuration (${n} problem${n === 1 ? '' : 's'}):\n${formatProblems(problems)}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** One line per problem: `<file>: <key>: <problem>`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.file}: ${p.key}: ${p.problem}`).join('\n');
}

export type PathPart = string | number;

/** ['agents', 3, 'number'] -> 'agents[3].number'; [] -> '(root)'. */
export function keyPath(parts: readonly PathPart[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

/** Append a relative key to a prefix such as 'profiles[1]' (inline profiles). */
export function joinKey(prefix: string, key: string): string {
  if (prefix === '') return key;
  if (key === '(root)') return prefix;
  return key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`;
}

/** Short human description of a YAML value for "got ..." messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** All problems of one load, de-duplicated (zod may report one mistake twice). */
export class ProblemList {
  readonly items: ConfigProblem[] = [];
  private readonly seen = new Set<string>();
  private readonly muted = new Set<string>();
  push(p: ConfigProblem): void {
    const id = `${p.file}\0${p.key}\0${p.problem}`;
    if (this.seen.has(id) || this.muted.has(`${p.file}\0${p.key}`)) return;
    this.seen.add(id);
    this.items.push(p);
  }
  /**
   * Drop later problems at this key. Used after an interpolation problem: the
   * half-substituted value would otherwise also fail validation, which is noise.
   */
  mute(file: string, key: string): void {
    this.muted.add(`${file}\0${key}`);
  }
}

/** Adds problems for one file, with an optional key prefix (inline profiles). */
export class ProblemSink {
  constructor(
    readonly list: ProblemList,
    readonly file: string,
    readonly prefix = '',
  ) {}
  add(key: string, problem: string): void {
    this.list.push({ file: this.file, key: joinKey(this.prefix, key), problem });
  }
  mute(key: string): void {
    this.list.mute(this.file, joinKey(this.prefix, key));
  }
  /** Same list and file, keys nested under `prefix`. */
  nested(prefix: string): ProblemSink {
    return new ProblemSink(this.list, this.file, joinKey(this.prefix, prefix));
  }
}
