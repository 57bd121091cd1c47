import { normalizeNumber } from './numbers.js';
import { parseWith } from './parse.js';
import { joinKey, type ProblemSink } from './problems.js';
import { AgentRangeSchema, AgentSchema, isName } from './schema.js';
import type { AgentConfig, NumberNormalization } from './types.js';

// Expands a profile's `agents:` entries. Two shapes are accepted:
//   { id, number, initialState?, engine? }                      one agent
//   { range: { from, count }, idPrefix, idStart?, idWidth?, ... }  `count` agents
// An entry with a `range` key is a range; anything else is checked as a single agent,
// so a typo in a single agent gets precise messages rather than "matches neither".

export interface LocatedAgent {
  agent: AgentConfig;
  /** Key (relative to the profile's sink) to report number / id conflicts at. */
  numberKey: string;
  idKey: string;
  /** `<file>: <key>` of the entry, to point at it from problems in other places. */
  where: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function unusable(rule: NumberNormalization): string {
  return rule === 'exact'
    ? 'must not be empty before any ";" parameters'
    : `cannot become a routing key with numberNormalization '${rule}': only digits, a leading '+' and the separators - . ( ) and space are allowed`;
}

/**
 * Add `n` to the digits of `from`, keeping every non-digit character where it is
 * ("+1 (899) 000-0009" + 1 = "+1 (899) 000-0010"). Null if more digits would be needed.
 */
export function addToDigits(from: string, n: number): string | null {
  const positions: number[] = [];
  for (let i = 0; i < from.length; i++) if (from[i]! >= '0' && from[i]! <= '9') positions.push(i);
  if (positions.length === 0) return null;
  const digits = positions.map((i) => from[i]).join('');
  const next = (BigInt(digits) + BigInt(n)).toString().padStart(digits.length, '0');
  if (next.length > digits.length) return null;
  const chars = [...from];
  positions.forEach((pos, j) => (chars[pos] = next[j]!));
  return chars.join('');
}

export function expandAgents(
  entries: readonly unknown[],
  rule: NumberNormalization,
  profileEngine: string,
  sink: ProblemSink,
): LocatedAgent[] {
  const out: LocatedAgent[] = [];
  entries.forEach((entry, i) => {
    const at = `agents[${i}]`;
    const sub = sink.nested(at);
    const where = `${sink.file}: ${joinKey(sink.prefix, at)}`;
    if (isRecord(entry) && 'range' in entry) {
      out.push(...expandRange(entry, at, where, rule, profileEngine, sub));
      return;
    }
    const a = parseWith(AgentSchema, entry, sub);
    if (!a) return;
    const key = normalizeNumber(a.number, rule);
    if (key === null) {
      sub.add('number', unusable(rule));
      return;
    }
    const agent: AgentConfig = { id: a.id, number: a.number, key, initialState: a.initialState, engine: a.engine ?? profileEngine, vendorUser: a.vendorUser ?? a.id };
    if (a.vendorPassword) agent.vendorPassword = a.vendorPassword;
    if (a.sipPassword) agent.sipPassword = a.sipPassword;
    out.push({ agent, numberKey: `${at}.number`, idKey: `${at}.id`, where });
  });
  return out;
}

function expandRange(
  entry: unknown,
  at: string,
  where: string,
  rule: NumberNormalization,
  profileEngine: string,
  sub: ProblemSink,
): LocatedAgent[] {
  const r = parseWith(AgentRangeSchema, entry, sub);
  if (!r) return [];
  const { from, count } = r.range;
  if (from.includes(';')) {
    sub.add('range.from', "must be a plain number without ';' parameters");
    return [];
  }
  if (normalizeNumber(from, rule) === null) {
    sub.add('range.from', unusable(rule));
    return [];
  }
  if (addToDigits(from, 0) === null) {
    sub.add('range.from', 'must contain digits to count up from');
    return [];
  }
  if (addToDigits(from, count - 1) === null) {
    sub.add('range.count', `${count} numbers from ${JSON.stringify(from)} would need more digits than 'from' has`);
    return [];
  }
  const idOf = (n: number) => r.idPrefix + String(r.idStart + n).padStart(r.idWidth, '0');
  if (!isName(idOf(0)) || !isName(idOf(count - 1))) {
    sub.add('idPrefix', `generated ids such as '${idOf(0)}' must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`);
    return [];
  }
  const agents: LocatedAgent[] = [];
  for (let n = 0; n < count; n++) {
    const number = addToDigits(from, n)!;
    const agent: AgentConfig = {
      id: idOf(n),
      number,
      key: normalizeNumber(number, rule)!,
      initialState: r.initialState,
      engine: r.engine ?? profileEngine,
      // A range shares one user prefix: the vendor user is the generated id unless given.
      vendorUser: r.vendorUser ? `${r.vendorUser}${String(r.idStart + n).padStart(r.idWidth, '0')}` : idOf(n),
    };
    if (r.vendorPassword) agent.vendorPassword = r.vendorPassword;
    if (r.sipPassword) agent.sipPassword = r.sipPassword;
    agents.push({ agent, numberKey: `${at}.range`, idKey: `${at}.idPrefix`, where });
  }
  return agents;
}
