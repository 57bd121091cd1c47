import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { expandAgents } from './agents.js';
import { interpolate } from './interpolate.js';
import { parseWith } from './parse.js';
import { ConfigError, describe, ProblemList, ProblemSink, type ConfigProblem } from './problems.js';
import { GatewayFileSchema, NormalizationSchema, ProfileSchema } from './schema.js';
import type { ContactCenterConfig, GatewayConfig, SipProfile } from './types.js';
import { crossCheck, type LoadedProfile } from './validate.js';
import { VENDOR_SECTIONS, type VendorSettings } from '../vendors/settings.js';

export { ConfigError, formatProblems, type ConfigProblem } from './problems.js';

// Loading pipeline, per file: read -> YAML parse -> ${VAR} interpolation ->
// schema validation; then cross-file checks. Every stage records problems and
// carries on where it still makes sense, so one run reports everything.

/** Each platform's section of the validated file. */
function vendorSettings(top: Record<string, unknown>): VendorSettings {
  return Object.fromEntries(VENDOR_SECTIONS.map((n) => [n, top[n]])) as unknown as VendorSettings;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Load and validate gateway.yaml and its profiles. Throws ConfigError listing every problem. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const { config, problems } = analyseSafely(file, env);
  if (!config || problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Validate without throwing; [] means loadConfig() would succeed. */
export function checkConfig(file: string, env: NodeJS.ProcessEnv = process.env): ConfigProblem[] {
  return analyseSafely(file, env).problems;
}

function analyseSafely(file: string, env: NodeJS.ProcessEnv): { config?: GatewayConfig; problems: ConfigProblem[] } {
  try {
    return analyse(file, env);
  } catch (err) {
    // A bug in the loader must still surface as a readable problem, not a stack trace.
    return { problems: [{ file, key: '(internal)', problem: `internal error: ${(err as Error).message}` }] };
  }
}

function readText(file: string): { text: string } | { error: string } {
  try {
    return { text: readFileSync(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { error: 'no such file' };
    if (code === 'EACCES') return { error: 'permission denied' };
    if (code === 'EISDIR') return { error: 'is a directory, not a file' };
    return { error: (err as Error).message };
  }
}

/** YAML text -> interpolated tree; undefined if the file is unusable (problems recorded). */
function parseYaml(text: string, env: NodeJS.ProcessEnv, sink: ProblemSink): unknown {
  const doc = parseDocument(text, { merge: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      const msg = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      sink.add('(yaml)', pos ? `line ${pos.line}, column ${pos.col}: ${msg}` : msg);
    }
    return undefined;
  }
  let tree: unknown;
  try {
    tree = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    sink.add('(yaml)', (err as Error).message);
    return undefined;
  }
  if (tree === null || tree === undefined) {
    sink.add('(root)', 'file is empty (expected a mapping)');
    return undefined;
  }
  const result = interpolate(tree, env);
  for (const p of result.problems) {
    sink.add(p.key, p.problem);
    sink.mute(p.key);
  }
  return result.value;
}

function loadProfile(raw: unknown, file: string, sink: ProblemSink): LoadedProfile {
  const data = parseWith(ProfileSchema, raw, sink);
  const rawAgents = isRecord(raw) && Array.isArray(raw.agents) ? raw.agents : [];
  // Agents are checked even when the profile is not, with the best guess of its rule.
  const guessed = NormalizationSchema.safeParse(isRecord(raw) ? (raw.numberNormalization ?? 'nanp') : 'nanp');
  const rule = data?.numberNormalization ?? (guessed.success ? guessed.data : 'nanp');
  const agents = expandAgents(rawAgents, rule, data?.engine ?? 'builtin:echo', sink);
  if (!data) return { sink, agents };
  const profile: SipProfile = {
    file,
    name: data.name,
    listen: data.listen,
    trustedSources: data.trustedSources,
    codecs: data.codecs,
    ptime: data.ptime,
    numberNormalization: data.numberNormalization,
    maxCallSeconds: data.maxCallSeconds,
    answerDelayMs: data.answerDelayMs,
    sessionTimer: data.sessionTimer,
    edge: data.edge,
    engine: data.engine,
    engineFailure: {
      ...data.engineFailure,
      ...(data.engineFailure.audioFile ? { audioFile: path.resolve(path.dirname(file), data.engineFailure.audioFile) } : {}),
    },
    contactCenter: data.contactCenter as ContactCenterConfig,
    webrtc: data.webrtc,
    agents: agents.map((a) => a.agent),
  };
  return { sink, profile, agents };
}

function analyse(file: string, env: NodeJS.ProcessEnv): { config?: GatewayConfig; problems: ConfigProblem[] } {
  const list = new ProblemList();
  const gatewaySink = new ProblemSink(list, file);
  const absFile = path.resolve(file);
  const read = readText(absFile);
  if ('error' in read) {
    gatewaySink.add('(file)', `cannot read ${file}: ${read.error}`);
    return { problems: list.items };
  }
  const tree = parseYaml(read.text, env, gatewaySink);
  if (tree === undefined) return { problems: list.items };
  const top = parseWith(GatewayFileSchema, tree, gatewaySink);

  const loaded: LoadedProfile[] = [];
  const seen = new Map<string, number>();
  const entries = isRecord(tree) && Array.isArray(tree.profiles) ? tree.profiles : [];
  entries.forEach((entry: unknown, i: number) => {
    const at = `profiles[${i}]`;
    if (isRecord(entry)) {
      loaded.push(loadProfile(entry, absFile, gatewaySink.nested(at)));
      return;
    }
    if (typeof entry !== 'string' || entry === '') {
      gatewaySink.add(at, `must be a profile file path or an inline profile mapping, got ${describe(entry)}`);
      return;
    }
    // Relative paths are relative to gateway.yaml, and shown that way in problems.
    const shown = path.isAbsolute(entry) ? entry : path.join(path.dirname(file), entry);
    const abs = path.resolve(shown);
    const previous = seen.get(abs);
    if (previous !== undefined) {
      gatewaySink.add(at, `${entry} is already listed at profiles[${previous}]`);
      return;
    }
    seen.set(abs, i);
    const profileRead = readText(abs);
    if ('error' in profileRead) {
      gatewaySink.add(at, `cannot read profile ${shown}: ${profileRead.error}`);
      return;
    }
    const sink = new ProblemSink(list, shown);
    const profileTree = parseYaml(profileRead.text, env, sink);
    if (profileTree !== undefined) loaded.push(loadProfile(profileTree, abs, sink));
  });

  crossCheck(top, gatewaySink, loaded);
  if (!top || list.items.length > 0) return { problems: list.items };
  const profiles = loaded.map((p) => p.profile).filter((p): p is SipProfile => p !== undefined);
  return { problems: [], config: { file: absFile, gateway: top.gateway, media: top.media, engines: top.engines, ...vendorSettings(top), ...(top.cluster ? { cluster: top.cluster } : {}), dataDir: path.resolve(path.dirname(absFile), top.dataDir), profiles } };
}
