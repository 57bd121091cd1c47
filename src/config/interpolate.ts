import { keyPath, type PathPart } from './problems.js';

// Environment interpolation runs on the parsed YAML tree rather than on the raw
// text: a value can then never break YAML syntax (quotes, colons, newlines in a
// password), and every problem can name the key it came from.
//
// Syntax, inside any string value (keys are left alone):
//   ${VAR}            value of VAR; a problem if VAR is unset (empty is fine)
//   ${VAR:-default}   default if VAR is unset or empty (shell semantics);
//                     the default ends at the first '}' and is not interpolated
//   $${               a literal '${'
// A lone '$' not followed by '{' is literal.

const REF = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?$/;

export interface InterpolationProblem {
  key: string;
  problem: string;
}

/** Interpolate one string; problems are plain messages (the caller knows the key). */
export function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
): { value: string; problems: string[] } {
  const problems: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) break;
    out += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith('${', dollar)) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      problems.push(`unterminated '\${' (write '$\${' for a literal '\${')`);
      out += text.slice(dollar);
      i = text.length;
      break;
    }
    const inner = text.slice(dollar + 2, close);
    const m = REF.exec(inner);
    if (!m) {
      problems.push(`invalid variable reference '\${${inner}}' (expected \${NAME} or \${NAME:-default})`);
    } else {
      const name = m[1]!;
      const fallback = m[2];
      const value = env[name];
      if (fallback !== undefined && (value === undefined || value === '')) out += fallback;
      else if (value !== undefined) out += value;
      else problems.push(`environment variable ${name} is not set (write \${${name}:-default} to give a default)`);
    }
    i = close + 1;
  }
  out += text.slice(i);
  return { value: out, problems };
}

/** Return a copy of `tree` with every string value interpolated; the input is not modified. */
export function interpolate(
  tree: unknown,
  env: NodeJS.ProcessEnv,
): { value: unknown; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const walk = (node: unknown, path: PathPart[]): unknown => {
    if (typeof node === 'string') {
      const r = interpolateString(node, env);
      for (const problem of r.problems) problems.push({ key: keyPath(path), problem });
      return r.value;
    }
    if (Array.isArray(node)) return node.map((item, idx) => walk(item, [...path, idx]));
    if (node !== null && typeof node === 'object') {
      const copy: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) copy[k] = walk(v, [...path, k]);
      return copy;
    }
    return node;
  };
  return { value: walk(tree, []), problems };
}
