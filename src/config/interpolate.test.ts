import { describe, expect, it } from 'vitest';
import { interpolate, interpolateString } from './interpolate.js';

describe('interpolateString', () => {
  const env = { HOST: '10.0.0.1', EMPTY: '', PORT: '5070' };

  it('substitutes ${VAR}, also inside text and several times', () => {
    expect(interpolateString('${HOST}', env)).toEqual({ value: '10.0.0.1', problems: [] });
    expect(interpolateString('sip:${HOST}:${PORT};x', env).value).toBe('sip:10.0.0.1:5070;x');
  });

  it('uses the default when unset or empty, like the shell', () => {
    expect(interpolateString('${NOPE:-d}', env).value).toBe('d');
    expect(interpolateString('${EMPTY:-d}', env).value).toBe('d');
    expect(interpolateString('${HOST:-d}', env).value).toBe('10.0.0.1');
    expect(interpolateString('${NOPE:-}', env)).toEqual({ value: '', problems: [] });
    expect(interpolateString('${EMPTY}', env)).toEqual({ value: '', problems: [] });
  });

  it('reports a missing variable with no default', () => {
    const r = interpolateString('a${NOPE}b', env);
    expect(r.problems).toEqual(['environment variable NOPE is not set (write ${NOPE:-default} to give a default)']);
  });

  it('$${ is a literal ${, and lone $ is literal', () => {
    expect(interpolateString('$${HOST} costs $5 $$', env)).toEqual({ value: '${HOST} costs $5 $$', problems: [] });
  });

  it('reports malformed references', () => {
    expect(interpolateString('${HOST', env).problems[0]).toMatch(/unterminated/);
    expect(interpolateString('${1BAD}', env).problems[0]).toMatch(/invalid variable reference '\$\{1BAD\}'/);
    expect(interpolateString('${A-B}', env).problems).toHaveLength(1);
  });
});

describe('interpolate (tree)', () => {
  it('walks lists and mappings, records key paths, leaves keys and non-strings alone', () => {
    const tree = { '${K}': 1, listen: { host: '${H}', port: 5 }, agents: [{ number: '${N}' }], ok: true };
    const original = structuredClone(tree);
    const r = interpolate(tree, { H: 'h' });
    expect(r.value).toEqual({ '${K}': 1, listen: { host: 'h', port: 5 }, agents: [{ number: '' }], ok: true });
    expect(r.problems).toEqual([
      { key: 'agents[0].number', problem: 'environment variable N is not set (write ${N:-default} to give a default)' },
    ]);
    expect(tree).toEqual(original);
  });
});
