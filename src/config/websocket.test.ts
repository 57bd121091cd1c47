import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { baseProfile, problemsFor, profileProblems, writeFixture } from './test-fixtures.js';

// SIP over WebSocket settings: listen.websocket (one profile only) and agents' sipPassword.
describe('SIP over WebSocket config', () => {
  it('websocket and sipPassword (with ${ENV}) load; the default is off', () => {
    const dir = writeFixture({
      'gateway.yaml': { profiles: ['p1.yaml', 'p2.yaml'] },
      'p1.yaml': baseProfile({
        listen: { host: '127.0.0.1', port: 5070, transports: ['udp'], websocket: true },
        agents: [{ id: 'a1', number: '+18990000001', sipPassword: '${A1_PW}' }, { range: { from: '+18990000002', count: 2 }, idPrefix: 'r', sipPassword: 'shared' }],
      }),
      'p2.yaml': baseProfile({ name: 'p2', listen: { host: '127.0.0.1', port: 5072 }, agents: [{ id: 'b1', number: '+18990000101' }] }),
    });
    const c = loadConfig(path.join(dir, 'gateway.yaml'), { A1_PW: 'from-env' });
    expect(c.profiles[0]!.listen.websocket).toBe(true);
    expect(c.profiles[0]!.agents.map((a) => a.sipPassword)).toEqual(['from-env', 'shared', 'shared']);
    expect(c.profiles[1]!.listen.websocket).toBe(false);
    expect(c.profiles[1]!.agents[0]!.sipPassword).toBeUndefined();
  });

  it('bad values and a second WebSocket profile are reported with file and key', () => {
    expect(profileProblems({ listen: { host: '127.0.0.1', port: 5070, websocket: 'yes' }, agents: [{ id: 'a1', number: '+18990000001', sipPassword: '' }] })).toEqual([
      { file: 'p1.yaml', key: 'listen.websocket', problem: 'must be true or false, got "yes"' },
      { file: 'p1.yaml', key: 'agents[0].sipPassword', problem: 'must not be empty' },
    ]);
    const problems = problemsFor({
      'gateway.yaml': { profiles: ['p1.yaml', 'p2.yaml'] },
      'p1.yaml': baseProfile({ listen: { host: '127.0.0.1', port: 5070, websocket: true } }),
      'p2.yaml': baseProfile({ name: 'p2', listen: { host: '127.0.0.1', port: 5072, websocket: true }, agents: [{ id: 'b1', number: '+18990000101' }] }),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'p2.yaml', key: 'listen.websocket' });
    expect(problems[0]!.problem).toMatch(/^only one profile may take SIP over WebSocket .*profile 'p1'/);
  });
});
