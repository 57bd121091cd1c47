import type { z } from 'zod';
import { describe, keyPath, type PathPart, type ProblemSink } from './problems.js';

// Runs a schema and turns its issues into ConfigProblems. Leaf schemas carry
// their own wording (schema.ts); this only covers what they do not.

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
};

function fallbackError(iss: { code?: string; input?: unknown; expected?: unknown; origin?: unknown }): string | undefined {
  if (iss.code === 'invalid_type') {
    const what = TYPE_NAMES[String(iss.expected)] ?? String(iss.expected);
    return iss.input === undefined ? `is required (${what})` : `must be ${what}, got ${describe(iss.input)}`;
  }
  if (iss.code === 'too_small' && iss.origin === 'array') return 'must not be empty';
  return undefined;
}

/** Parse `value`; on failure report every issue to `sink` and return undefined. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, sink: ProblemSink): z.output<T> | undefined {
  const result = schema.safeParse(value, { error: fallbackError });
  if (result.success) return result.data;
  for (const iss of result.error.issues) {
    const path = iss.path.filter((p): p is PathPart => typeof p !== 'symbol');
    if (iss.code === 'unrecognized_keys') {
      // schema.ts writes one line per unknown key, in `keys` order.
      const lines = iss.message.split('\n');
      iss.keys.forEach((k, j) => sink.add(keyPath([...path, k]), lines[j] ?? `unknown key '${k}'`));
    } else {
      sink.add(keyPath(path), iss.message);
    }
  }
  return undefined;
}
