import { describe, expect, it } from 'vitest';
import { baseProfile, problemsFor, profileProblems } from './test-fixtures.js';

// One problem per broken rule, with file, key path and a specific reason.
const p1 = (key: string, problem: string) => ({ file: 'p1.yaml', key, problem });
const gw = (key: string, problem: string) => ({ file: 'gateway.yaml', key, problem });
const gatewayProblems = (gateway: Record<string, unknown>) =>
  problemsFor({ 'gateway.yaml': { profiles: ['p1.yaml'], ...gateway }, 'p1.yaml': baseProfile() });

describe('gateway.yaml rules', () => {
  it('unknown keys, at every level, with suggestions', () => {
    expect(gatewayProblems({ gatway: {}, media: { hots: '1.2.3.4' } })).toEqual([
      gw('media.hots', "unknown key 'hots' (did you mean 'host'?)"),
      gw('gatway', "unknown key 'gatway' (did you mean 'gateway'?)"),
    ]);
  });

  it('types and ranges of gateway settings', () => {
    const problems = gatewayProblems({
      gateway: {
        name: 'has space',
        http: { host: 'localhost', port: -1 },
        limits: { maxCalls: 0, maxCallsPerSecond: 'lots', retryAfterSeconds: 1.5 },
        drainTimeoutSeconds: 3601,
        logLevel: 'verbose',
      },
    });
    expect(problems).toEqual([
      gw('gateway.name', 'must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got "has space"'),
      gw('gateway.http.host', 'must be an IP address (IPv4 or IPv6), got "localhost"'),
      gw('gateway.http.port', 'must be an integer 0..65535, got -1'),
      gw('gateway.limits.maxCalls', 'must be an integer 1..1000000, got 0'),
      gw('gateway.limits.maxCallsPerSecond', 'must be an integer 1..1000000, got "lots"'),
      gw('gateway.limits.retryAfterSeconds', 'must be an integer 0..86400, got 1.5'),
      gw('gateway.drainTimeoutSeconds', 'must be an integer 0..3600, got 3601'),
      gw('gateway.logLevel', 'must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'),
    ]);
  });

  it("stream dialects: each dialect's section for its protocol only, with its values named", () => {
    expect(gatewayProblems({
      engines: {
        a: { url: 'ws://127.0.0.1:1/', protocol: 'twilio', jambonz: { sampleRate: 16000 } },
        b: { url: 'ws://127.0.0.1:1/', protocol: 'jambonz', jambonz: { sampleRate: 44100 } },
        c: { url: 'ws://127.0.0.1:1/', protocol: 'asterisk', asterisk: { format: 'opus', controlFormat: 'xml' } },
        d: { url: 'ws://127.0.0.1:1/', protocol: 'audiosocket' },
      },
    })).toEqual([
      gw('engines.a.jambonz', "applies to protocol jambonz only (this engine's protocol is twilio)"),
      gw('engines.b.jambonz.sampleRate', 'must be 8000 or 16000, got 44100'),
      gw('engines.c.asterisk.format', 'must be one of ulaw, slin, slin16, got "opus"'),
      gw('engines.c.asterisk.controlFormat', 'must be one of json, plain-text, got "xml"'),
      gw('engines.d.protocol', 'must be one of twilio, l16, jambonz, asterisk, got "audiosocket"'),
    ]);
  });

  it('http port 0 (ephemeral) is allowed', () => {
    expect(gatewayProblems({ gateway: { http: { port: 0 } } })).toEqual([]);
  });

  it('media host and RTP port range', () => {
    expect(gatewayProblems({ media: { host: '0.0.0.0', rtpPortMin: 20001, rtpPortMax: 70000 } })).toEqual([
      gw('media.host', 'must be a specific IP address (not 0.0.0.0 or ::); it goes into SDP c=, got "0.0.0.0"'),
      gw('media.rtpPortMin', 'must be an even integer 1024..65534, got 20001'),
      gw('media.rtpPortMax', 'must be an integer 1024..65535, got 70000'),
    ]);
    expect(gatewayProblems({ media: { rtpPortMin: 1000 } })).toEqual([gw('media.rtpPortMin', 'must be an even integer 1024..65534, got 1000')]);
    expect(gatewayProblems({ media: { rtpPortMin: 30000, rtpPortMax: 30000 } })).toEqual([
      gw('media.rtpPortMax', 'must be greater than rtpPortMin (30000), got 30000'),
    ]);
    expect(gatewayProblems({ media: { rtpPortMin: 30000, rtpPortMax: 30001 } })).toEqual([]);
  });

  it('profiles must be a non-empty list', () => {
    expect(problemsFor({ 'gateway.yaml': { profiles: [] } })).toEqual([gw('profiles', 'must list at least one SIP profile')]);
    expect(problemsFor({ 'gateway.yaml': { gateway: {} } })).toEqual([
      gw('profiles', 'is required (a list of profile file paths or inline profiles)'),
    ]);
  });
});

describe('profile rules', () => {
  it('unknown keys', () => {
    expect(profileProblems({ lisen: {} })).toEqual([p1('lisen', "unknown key 'lisen' (did you mean 'listen'?)")]);
  });

  it('required keys', () => {
    const problems = problemsFor({ 'p1.yaml': { name: 'p1' } });
    expect(problems.map((p) => p.key)).toEqual(['listen', 'trustedSources', 'agents']);
    expect(problems[1]!.problem).toMatch(/^is required \(a list of CIDRs/);
  });

  it('listen address, port and transports', () => {
    expect(profileProblems({ listen: { host: 'example.com', port: 70000, transports: ['udp', 'sctp', 'udp'] } })).toEqual([
      p1('listen.host', 'must be an IP address (IPv4 or IPv6), got "example.com"'),
      p1('listen.port', 'must be an integer 1..65535, got 70000'),
      p1('listen.transports[1]', 'must be one of udp, tcp, got "sctp"'),
    ]);
    expect(profileProblems({ listen: { port: 5070, transports: ['udp', 'udp'] } })).toEqual([
      p1('listen.transports[1]', 'duplicate transport "udp"'),
    ]);
    expect(profileProblems({ listen: { port: 5070, transports: [] } })).toEqual([p1('listen.transports', 'must list at least one transport')]);
  });

  it('advertisedHost is required with a wildcard listen host, and never a wildcard', () => {
    expect(profileProblems({ listen: { host: '0.0.0.0', port: 5070 } })).toEqual([
      p1('listen.advertisedHost', 'is required when listen.host is 0.0.0.0: Via and Contact need an address peers can reach'),
    ]);
    expect(profileProblems({ listen: { host: '::', port: 5070, advertisedHost: '::' } })).toEqual([
      p1('listen.advertisedHost', 'must be an IP address or DNS name (not 0.0.0.0 or ::), got "::"'),
    ]);
    expect(profileProblems({ listen: { host: '::', port: 5070, advertisedHost: 'sip.example.com' } })).toEqual([]);
  });

  it('trusted sources: valid CIDRs, not empty', () => {
    expect(profileProblems({ trustedSources: ['10.0.0.0/33', '10.0.0.1', '2001:db8::/129', 'fe80::/10', '0.0.0.0/0'] })).toEqual([
      p1('trustedSources[0]', 'must be a CIDR (address/prefix, e.g. 10.0.0.0/8 or ::1/128), got "10.0.0.0/33"'),
      p1('trustedSources[1]', 'must be a CIDR (address/prefix, e.g. 10.0.0.0/8 or ::1/128), got "10.0.0.1"'),
      p1('trustedSources[2]', 'must be a CIDR (address/prefix, e.g. 10.0.0.0/8 or ::1/128), got "2001:db8::/129"'),
    ]);
    expect(profileProblems({ trustedSources: [] })).toEqual([
      p1('trustedSources', 'must not be empty: nobody would be trusted (use 0.0.0.0/0 and ::/0 to trust everyone)'),
    ]);
  });

  it('codecs: known, no repeats, at least one audio codec', () => {
    expect(profileProblems({ codecs: ['PCMU', 'G729'] })).toEqual([p1('codecs[1]', 'must be one of PCMU, PCMA, telephone-event, got "G729"')]);
    expect(profileProblems({ codecs: ['PCMA', 'PCMA'] })).toEqual([p1('codecs[1]', 'duplicate codec "PCMA"')]);
    expect(profileProblems({ codecs: ['telephone-event'] })).toEqual([
      p1('codecs', 'must include an audio codec (PCMU or PCMA); telephone-event only carries DTMF'),
    ]);
    expect(profileProblems({ codecs: [] })).toEqual([p1('codecs', 'must list at least one codec')]);
  });

  it('ptime, maxCallSeconds, numberNormalization', () => {
    expect(profileProblems({ ptime: 70, maxCallSeconds: -1, numberNormalization: 'e164' })).toEqual([
      p1('ptime', 'must be a multiple of 10 in 10..60, got 70'),
      p1('numberNormalization', 'must be one of nanp, digits, exact, got "e164"'),
      p1('maxCallSeconds', 'must be an integer 0..604800 (0 = no limit), got -1'),
    ]);
    expect(profileProblems({ ptime: 10, maxCallSeconds: 0 })).toEqual([]);
  });

  it('session timer: minSE >= 90, defaultExpires >= minSE', () => {
    expect(profileProblems({ sessionTimer: { minSE: 89 } })).toEqual([p1('sessionTimer.minSE', 'must be an integer 90..86400, got 89')]);
    expect(profileProblems({ sessionTimer: { minSE: 600, defaultExpires: 300 } })).toEqual([
      p1('sessionTimer.defaultExpires', 'must be >= minSE (600), got 300'),
    ]);
  });

  it('engine: builtin:echo, builtin:demo, ws(s) URL or a named engine that exists', () => {
    const msg = (v: string) => `must be 'builtin:echo', 'builtin:demo', 'webrtc:sip' (the agent's registered SIP.js endpoint), 'webrtc:attach' (an engine attached over /webrtc signaling), a ws:// or wss:// URL, or the name of an entry in engines:, got "${v}"`;
    expect(profileProblems({ engine: 'http://x/y' })).toEqual([p1('engine', msg('http://x/y'))]);
    expect(profileProblems({ engine: 'ws//x' })).toEqual([p1('engine', msg('ws//x'))]);
    expect(profileProblems({ agents: [{ id: 'a', number: '1', engine: 'ws//x' }] })).toEqual([p1('agents[0].engine', msg('ws//x'))]);
    expect(profileProblems({ engine: 'wss://ai.example.com:8443/va?x=1' })).toEqual([]);
    expect(profileProblems({ engine: 'mybot' })).toEqual([p1('engine', "unknown engine 'mybot' (engines in gateway.yaml: none defined)")]);
  });

  it('contactCenter: a vendor needs a service; open hours need a real time zone and HH:MM ranges', () => {
    expect(profileProblems({ contactCenter: { vendor: 'livevox' } })).toEqual([p1('contactCenter.serviceId', 'is required when vendor is livevox')]);
    expect(profileProblems({ contactCenter: { vendor: 'livevox', serviceId: '123', openHours: { timeZone: 'Mars/Olympus', weekly: { mon: '09:00-08:00' } } } })).toEqual([
      p1('contactCenter.openHours.timeZone', 'must be an IANA time zone such as America/New_York, got "Mars/Olympus"'),
      p1('contactCenter.openHours.weekly.mon', 'must be "HH:MM-HH:MM" (24 h, end after start) or "closed", got "09:00-08:00"'),
    ]);
    expect(profileProblems({ contactCenter: { vendor: 'livevox', serviceId: '123', openHours: { timeZone: 'America/New_York', weekly: { mon: '08:00-20:00', sat: 'closed' } } } })).toEqual([]);
  });

  it('engineFailure: transfer needs a target, play needs an existing file', () => {
    expect(profileProblems({ engineFailure: { policy: 'transfer' } })).toEqual([p1('engineFailure.transferTarget', 'is required when policy is transfer')]);
    expect(profileProblems({ engineFailure: { policy: 'play', audioFile: 'nope.wav' } })).toEqual([
      p1('engineFailure.audioFile', expect.stringMatching(/^file not found: .*nope\.wav$/)),
    ]);
  });
});

describe('agent rules', () => {
  it('agent fields', () => {
    expect(profileProblems({ agents: [{ id: '', number: 18990000001, initialState: 'busy', extra: 1 }] })).toEqual([
      p1('agents[0].id', 'must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got ""'),
      p1('agents[0].number', `must be a quoted string, e.g. "+18990000001" (unquoted, YAML reads a number and drops '+' and leading zeros), got 18990000001`),
      p1('agents[0].initialState', 'must be one of ready, not-ready, got "busy"'),
      p1('agents[0].extra', "unknown key 'extra'"),
    ]);
    expect(profileProblems({ agents: [] })).toEqual([p1('agents', 'must list at least one agent')]);
  });

  it('numbers must normalise under the profile rule', () => {
    expect(profileProblems({ numberNormalization: 'digits', agents: [{ id: 'a', number: 'alice' }] })).toEqual([
      p1('agents[0].number', "cannot become a routing key with numberNormalization 'digits': only digits, a leading '+' and the separators - . ( ) and space are allowed"),
    ]);
    expect(profileProblems({ numberNormalization: 'exact', agents: [{ id: 'a', number: 'alice' }] })).toEqual([]);
  });

  it('range shorthand rules', () => {
    const range = (r: Record<string, unknown>, more: Record<string, unknown> = {}) => profileProblems({ agents: [{ range: r, idPrefix: 'va-', ...more }] });
    expect(range({ from: '+18990000001', count: 10001 })).toEqual([p1('agents[0].range.count', 'must be an integer 1..10000, got 10001')]);
    expect(range({ from: '+18990000001' })).toEqual([p1('agents[0].range.count', 'is required (an integer 1..10000)')]);
    expect(range({ from: '99', count: 2 })).toEqual([
      p1('agents[0].range.count', `2 numbers from "99" would need more digits than 'from' has`),
    ]);
    expect(range({ from: '+1899;npdi', count: 2 })).toEqual([p1('agents[0].range.from', "must be a plain number without ';' parameters")]);
    expect(range({ from: '1', count: 1 }, { idPrefix: '-' })).toEqual([
      p1('agents[0].idPrefix', "generated ids such as '-1' must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit"),
    ]);
    expect(range({ from: '1', count: 1, step: 2 }, { idWidth: 13 })).toEqual([
      p1('agents[0].range.step', "unknown key 'step'"),
      p1('agents[0].idWidth', 'must be an integer 0..12 (zero-padded id width), got 13'),
    ]);
  });

  it('duplicate numbers after normalisation within a profile name both', () => {
    expect(profileProblems({ agents: [{ id: 'a', number: '+1 (899) 000-0001' }, { id: 'b', number: '8990000001' }] })).toEqual([
      p1(
        'agents[1].number',
        expect.stringMatching(/^duplicate number "8990000001" \(routing key 18990000001\): already used by agent 'a' \("\+1 \(899\) 000-0001"\) at .*p1\.yaml: agents\[0\]$/),
      ),
    ]);
  });

  it('duplicate numbers and ids across profiles, overlapping ranges grouped', () => {
    const problems = problemsFor({
      'gateway.yaml': { profiles: ['p1.yaml', 'p2.yaml'] },
      'p1.yaml': baseProfile({ agents: [{ range: { from: '+18990000001', count: 100 }, idPrefix: 'va-' }] }),
      'p2.yaml': baseProfile({
        name: 'p2',
        listen: { port: 5080 },
        agents: [{ range: { from: '8990000051', count: 100 }, idPrefix: 'vb-' }, { id: 'va-7', number: '+442071234567' }],
      }),
    });
    expect(problems).toEqual([
      { file: 'p2.yaml', key: 'agents[0].range', problem: expect.stringMatching(/^50 duplicate numbers with .*p1\.yaml: agents\[0\], first: duplicate number "8990000051" \(routing key 18990000051\): already used by agent 'va-51' \("\+18990000051"\)/) },
      { file: 'p2.yaml', key: 'agents[1].id', problem: expect.stringMatching(/^duplicate agent id 'va-7': already used by the agent at .*p1\.yaml: agents\[0\]$/) },
    ]);
  });

  it('duplicate profile names', () => {
    const problems = problemsFor({
      'gateway.yaml': { profiles: ['p1.yaml', baseProfile({ listen: { port: 5080 }, agents: [{ id: 'b', number: '2' }] })] },
      'p1.yaml': baseProfile(),
    });
    expect(problems).toEqual([gw('profiles[1].name', expect.stringMatching(/^duplicate profile name 'p1': also used by profile 'p1' \(.*p1\.yaml\)$/))]);
  });
});

describe('socket clashes', () => {
  const two = (l1: Record<string, unknown>, l2: Record<string, unknown>, gateway: Record<string, unknown> = {}) =>
    problemsFor({
      'gateway.yaml': { profiles: ['p1.yaml', 'p2.yaml'], ...gateway },
      'p1.yaml': baseProfile({ listen: l1 }),
      'p2.yaml': baseProfile({ name: 'p2', listen: l2, agents: [{ id: 'b', number: '2' }] }),
    });

  it('same host:port:transport in two profiles', () => {
    expect(two({ port: 5070, transports: ['udp', 'tcp'] }, { port: 5070, transports: ['tcp'] })).toEqual([
      { file: 'p2.yaml', key: 'listen', problem: expect.stringMatching(/^tcp 127\.0\.0\.1:5070 clashes with tcp 127\.0\.0\.1:5070 of profile 'p1' \(.*p1\.yaml\)$/) },
    ]);
    expect(two({ host: '0.0.0.0', advertisedHost: '10.0.0.1', port: 5070 }, { port: 5070, transports: ['udp'] })).toHaveLength(1);
  });

  it('different transport, port or address family is fine', () => {
    expect(two({ port: 5070, transports: ['udp'] }, { port: 5070, transports: ['tcp'] })).toEqual([]);
    expect(two({ port: 5070 }, { port: 5071 })).toEqual([]);
    expect(two({ host: '127.0.0.1', port: 5070 }, { host: '127.0.0.2', port: 5070 })).toEqual([]);
    expect(two({ host: '0.0.0.0', advertisedHost: 'a.example', port: 5070 }, { host: '::1', port: 5070 })).toEqual([]);
  });

  it('SIP vs HTTP port and RTP range', () => {
    expect(two({ port: 8080, transports: ['tcp'] }, { port: 25000 }, { media: { rtpPortMin: 20000, rtpPortMax: 30000 } })).toEqual([
      gw('gateway.http.port', expect.stringMatching(/^tcp 127\.0\.0\.1:8080 clashes with the SIP tcp listener of profile 'p1' \(.*p1\.yaml\)$/)),
      { file: 'p2.yaml', key: 'listen.port', problem: expect.stringMatching(/^udp port 25000 lies inside the RTP port range 20000\.\.30000 \(.*gateway\.yaml: media\)$/) },
    ]);
  });
});

describe('problem collection', () => {
  it('collects problems from every file in one run', () => {
    const problems = problemsFor({
      'gateway.yaml': { gateway: { logLevel: 'loud' }, profiles: ['p1.yaml', 'p2.yaml', baseProfile({ name: 'p3', listen: { port: 0 }, agents: [{ id: 'c', number: '3' }] })] },
      'p1.yaml': baseProfile({ ptime: 0 }),
      'p2.yaml': 'name: [\n',
    });
    expect(problems.map((p) => `${p.file}: ${p.key}`)).toEqual([
      'gateway.yaml: gateway.logLevel',
      'p1.yaml: ptime',
      'p2.yaml: (yaml)',
      'gateway.yaml: profiles[2].listen.port',
    ]);
  });
});
