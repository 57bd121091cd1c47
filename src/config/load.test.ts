import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig, ConfigError, formatProblems, loadConfig } from './load.js';
import { baseProfile, problemsFor, problemsIn, writeFixture } from './test-fixtures.js';

const repo = path.resolve(import.meta.dirname, '../..');

describe('shipped configuration', () => {
  it('gateway.yaml loads with the documented values', () => {
    const c = loadConfig(path.join(repo, 'gateway.yaml'), {});
    expect(c.file).toBe(path.join(repo, 'gateway.yaml'));
    expect(c.gateway).toEqual({
      name: 'vagw-1',
      http: { host: '127.0.0.1', port: 8080 },
      limits: { maxCalls: 2000, maxCallsPerSecond: 2500, retryAfterSeconds: 5 },
      overload: { eventLoopDelayMs: 150, eventLoopUtilization: 95, mediaLatenessMs: 60, wrapUpAgeMs: 3000, pendingWrapUps: 0, callsInSetup: 300 },
      drainTimeoutSeconds: 30,
      logLevel: 'info',
    });
    expect(c.media).toEqual({ host: '127.0.0.1', rtpPortMin: 20000, rtpPortMax: 39999, workers: 0, rtpTimeoutSeconds: 30, jitterMinMs: 20, jitterMaxMs: 60, engineBufferSeconds: 10, webrtc: { icePortMin: 40000, icePortMax: 40999, iceServers: [] } });
    expect(c.profiles).toHaveLength(1);
    const p = c.profiles[0]!;
    expect({ ...p, agents: undefined }).toEqual({
      file: path.join(repo, 'sip-profiles/livevox.yaml'),
      name: 'livevox',
      listen: { host: '127.0.0.1', port: 5070, transports: ['udp', 'tcp'], advertisedHost: '127.0.0.1', websocket: true },
      trustedSources: ['127.0.0.0/8', '::1/128'],
      codecs: ['PCMU', 'PCMA', 'telephone-event'],
      ptime: 20,
      numberNormalization: 'nanp',
      maxCallSeconds: 14400,
      answerDelayMs: 0,
      sessionTimer: { minSE: 90, defaultExpires: 1800 },
      edge: { untrusted: 'ignore', perSourceRequestsPerSecond: 2000, tcp: { maxConnections: 2000, maxConnectionsPerSource: 64, messageTimeoutSeconds: 10, idleTimeoutSeconds: 300 } },
      engine: 'builtin:echo',
      engineFailure: { policy: 'hangup', reconnectWindowMs: 2000 },
      contactCenter: { vendor: 'livevox', serviceId: '1001', password: 'sandbox', keepAliveMinutes: 60, screenPopWaitMs: 1500, termCodes: { completed: 'AI Completed', callerHungUp: 'Caller Hung Up', transferred: 'Transferred to Agent', failed: 'AI Failure' }, wrapUp: { maxAttempts: 8, retryMs: 500 } },
      webrtc: { codecs: ['PCMU', 'opus'], connectTimeoutSeconds: 30 },
      agents: undefined,
    });
    expect(p.agents).toHaveLength(11);
    expect(p.agents[0]).toEqual({ id: 'va-001', number: '+18990000001', key: '18990000001', initialState: 'ready', engine: 'builtin:echo', vendorUser: 'va-001' });
    expect(p.agents[9]).toMatchObject({ id: 'va-010', number: '+18990000010', key: '18990000010' });
    // The /demo page's agent: SIP.js registers with the sandbox password.
    expect(p.agents[10]).toMatchObject({ id: 'va-web', number: '+18990000011', engine: 'webrtc:sip', sipPassword: 'demo' });
  });

  it('sip-profiles/agent-session.yaml validates next to livevox', () => {
    const dir = writeFixture({
      'gateway.yaml': { agentSession: { url: 'sandbox' }, profiles: [path.join(repo, 'sip-profiles/livevox.yaml'), path.join(repo, 'sip-profiles/agent-session.yaml')] },
    });
    const c = loadConfig(path.join(dir, 'gateway.yaml'), {});
    expect(c.profiles.map((p) => p.contactCenter.vendor)).toEqual(['livevox', 'agent-session']);
    expect(c.agentSession).toMatchObject({ url: 'sandbox', timeoutMs: 5000 });
  });

  it('sip-profiles/generic-trunk.yaml validates next to livevox', () => {
    const dir = writeFixture({
      'gateway.yaml': { profiles: [path.join(repo, 'sip-profiles/livevox.yaml'), path.join(repo, 'sip-profiles/generic-trunk.yaml')] },
    });
    const c = loadConfig(path.join(dir, 'gateway.yaml'), {});
    const trunk = c.profiles[1]!;
    expect(trunk.name).toBe('generic-trunk');
    expect(trunk.listen).toEqual({ host: '127.0.0.1', port: 5080, transports: ['udp'], advertisedHost: '127.0.0.1', websocket: false });
    expect(trunk.agents.length).toBeGreaterThan(0);
  });
});

describe('loading', () => {
  it('applies defaults to a minimal config', () => {
    const dir = writeFixture({
      'gateway.yaml': { profiles: ['p1.yaml'] },
      'p1.yaml': { name: 'p1', listen: { port: 5070 }, trustedSources: ['0.0.0.0/0'], agents: [{ id: 'a1', number: '8990000001' }] },
    });
    const c = loadConfig(path.join(dir, 'gateway.yaml'), {});
    expect(c.gateway).toEqual({
      name: 'vagw',
      http: { host: '127.0.0.1', port: 8080 },
      limits: { maxCalls: 2000, maxCallsPerSecond: 2500, retryAfterSeconds: 5 },
      overload: { eventLoopDelayMs: 150, eventLoopUtilization: 95, mediaLatenessMs: 60, wrapUpAgeMs: 3000, pendingWrapUps: 0, callsInSetup: 300 },
      drainTimeoutSeconds: 30,
      logLevel: 'info',
    });
    expect(c.media).toEqual({ host: '127.0.0.1', rtpPortMin: 20000, rtpPortMax: 39999, workers: 0, rtpTimeoutSeconds: 30, jitterMinMs: 20, jitterMaxMs: 60, engineBufferSeconds: 10, webrtc: { icePortMin: 40000, icePortMax: 40999, iceServers: [] } });
    expect(c.profiles[0]).toEqual({
      file: path.join(dir, 'p1.yaml'),
      name: 'p1',
      listen: { host: '127.0.0.1', port: 5070, transports: ['udp', 'tcp'], advertisedHost: '127.0.0.1', websocket: false },
      trustedSources: ['0.0.0.0/0'],
      codecs: ['PCMU', 'PCMA', 'telephone-event'],
      ptime: 20,
      numberNormalization: 'nanp',
      maxCallSeconds: 14400,
      answerDelayMs: 0,
      sessionTimer: { minSE: 90, defaultExpires: 1800 },
      edge: { untrusted: 'ignore', perSourceRequestsPerSecond: 2000, tcp: { maxConnections: 2000, maxConnectionsPerSource: 64, messageTimeoutSeconds: 10, idleTimeoutSeconds: 300 } },
      engine: 'builtin:echo',
      engineFailure: { policy: 'hangup', reconnectWindowMs: 2000 },
      contactCenter: { vendor: 'none', keepAliveMinutes: 60, screenPopWaitMs: 1500, termCodes: { completed: 'AI Completed', callerHungUp: 'Caller Hung Up', transferred: 'Transferred to Agent', failed: 'AI Failure' }, wrapUp: { maxAttempts: 8, retryMs: 500 } },
      webrtc: { codecs: ['PCMU', 'opus'], connectTimeoutSeconds: 30 },
      agents: [{ id: 'a1', number: '8990000001', key: '18990000001', initialState: 'ready', engine: 'builtin:echo', vendorUser: 'a1' }],
    });
  });

  it('accepts inline profiles; their file is gateway.yaml', () => {
    const dir = writeFixture({ 'gateway.yaml': { profiles: [baseProfile({ engine: 'wss://ai.example.com/x' })] } });
    const c = loadConfig(path.join(dir, 'gateway.yaml'), {});
    expect(c.profiles[0]!.file).toBe(path.join(dir, 'gateway.yaml'));
    expect(c.profiles[0]!.agents[0]!.engine).toBe('wss://ai.example.com/x');
  });

  it('agent engine overrides the profile engine', () => {
    const dir = writeFixture({
      'gateway.yaml': { profiles: ['p1.yaml'] },
      'p1.yaml': baseProfile({
        engine: 'ws://127.0.0.1:9000/agent',
        agents: [
          { id: 'a1', number: '+18990000001', engine: 'builtin:demo', initialState: 'not-ready' },
          { id: 'a2', number: '+18990000002' },
        ],
      }),
    });
    const [a1, a2] = loadConfig(path.join(dir, 'gateway.yaml'), {}).profiles[0]!.agents;
    expect(a1).toMatchObject({ engine: 'builtin:demo', initialState: 'not-ready' });
    expect(a2).toMatchObject({ engine: 'ws://127.0.0.1:9000/agent', initialState: 'ready' });
  });

  it('expands ranges keeping the formatting of from', () => {
    const dir = writeFixture({
      'gateway.yaml': { profiles: ['p1.yaml'] },
      'p1.yaml': baseProfile({
        agents: [
          { range: { from: '+1 (899) 000-0009', count: 3 }, idPrefix: 'x-', idStart: 9, idWidth: 2, initialState: 'not-ready' },
          { range: { from: '8990000100', count: 2 }, idPrefix: 'y' },
        ],
      }),
    });
    const agents = loadConfig(path.join(dir, 'gateway.yaml'), {}).profiles[0]!.agents;
    expect(agents.map((a) => [a.id, a.number, a.key, a.initialState])).toEqual([
      ['x-09', '+1 (899) 000-0009', '18990000009', 'not-ready'],
      ['x-10', '+1 (899) 000-0010', '18990000010', 'not-ready'],
      ['x-11', '+1 (899) 000-0011', '18990000011', 'not-ready'],
      ['y1', '8990000100', '18990000100', 'ready'],
      ['y2', '8990000101', '18990000101', 'ready'],
    ]);
  });

  it('interpolates environment variables, numbers included', () => {
    const dir = writeFixture({
      'gateway.yaml': { gateway: { http: { port: '${HTTP_PORT:-8081}' } }, profiles: ['${PROFILE}'] },
      'p1.yaml': baseProfile({ listen: { host: '${SIP_HOST}', port: '${SIP_PORT}' }, name: 'p-$${x}' }),
    });
    expect(problemsIn(dir, { PROFILE: 'p1.yaml', SIP_HOST: '10.1.2.3', SIP_PORT: '5999' })).toEqual([
      { file: 'p1.yaml', key: 'name', problem: `must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got "p-\${x}"` },
    ]);
    writeFileSync(path.join(dir, 'p1.yaml'), 'name: p1\nlisten: { host: "${SIP_HOST}", port: "${SIP_PORT}" }\ntrustedSources: [10.0.0.0/8]\nagents: [{ id: a, number: "1" }]\n');
    const c = loadConfig(path.join(dir, 'gateway.yaml'), { PROFILE: 'p1.yaml', SIP_HOST: '10.1.2.3', SIP_PORT: '5999' });
    expect(c.gateway.http.port).toBe(8081);
    expect(c.profiles[0]!.listen).toMatchObject({ host: '10.1.2.3', port: 5999 });
  });

  it('reports a missing variable once, naming file, key and variable', () => {
    const problems = problemsFor({ 'p1.yaml': baseProfile({ listen: { host: '127.0.0.1', port: '${SIP_PORT}' } }) });
    expect(problems).toEqual([
      { file: 'p1.yaml', key: 'listen.port', problem: 'environment variable SIP_PORT is not set (write ${SIP_PORT:-default} to give a default)' },
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const problems = problemsFor({ 'p1.yaml': 'name: p1\nlisten:\n  port: [5070\n  host: x\n' });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ file: 'p1.yaml', key: '(yaml)' });
    expect(problems[0]!.problem).toMatch(/^line \d+, column \d+: /);
    const dup = problemsIn(writeFixture({ 'gateway.yaml': 'profiles: []\nprofiles: []\n' }));
    expect(dup).toEqual([{ file: 'gateway.yaml', key: '(yaml)', problem: 'line 2, column 1: Map keys must be unique' }]);
  });

  it('reports a missing gateway file', () => {
    expect(checkConfig('/nonexistent/gateway.yaml', {})).toEqual([
      { file: '/nonexistent/gateway.yaml', key: '(file)', problem: 'cannot read /nonexistent/gateway.yaml: no such file' },
    ]);
  });

  it('reports a missing profile file in gateway.yaml at profiles[i]', () => {
    const problems = problemsFor({ 'gateway.yaml': { profiles: ['p1.yaml', 'nope.yaml', 'p1.yaml', 42] }, 'p1.yaml': baseProfile() });
    expect(problems).toEqual([
      { file: 'gateway.yaml', key: 'profiles[1]', problem: expect.stringMatching(/^cannot read profile .*nope\.yaml: no such file$/) },
      { file: 'gateway.yaml', key: 'profiles[2]', problem: 'p1.yaml is already listed at profiles[0]' },
      { file: 'gateway.yaml', key: 'profiles[3]', problem: 'must be a profile file path or an inline profile mapping, got 42' },
    ]);
  });

  it('reports empty files', () => {
    expect(problemsFor({ 'p1.yaml': '# nothing\n' })).toEqual([{ file: 'p1.yaml', key: '(root)', problem: 'file is empty (expected a mapping)' }]);
  });

  it('loadConfig throws ConfigError with every problem; formatProblems prints one line each', () => {
    const dir = writeFixture({
      'gateway.yaml': { gateway: { nmae: 'x' }, profiles: ['p1.yaml'] },
      'p1.yaml': baseProfile({ ptime: 25 }),
    });
    let error: unknown;
    try {
      loadConfig(path.join(dir, 'gateway.yaml'), {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(formatProblems(problems).split('\n')).toEqual([
      `${path.join(dir, 'gateway.yaml')}: gateway.nmae: unknown key 'nmae' (did you mean 'name'?)`,
      `${path.join(dir, 'p1.yaml')}: ptime: must be a multiple of 10 in 10..60, got 25`,
    ]);
    expect((error as Error).message).toContain('2 problems');
  });
});
