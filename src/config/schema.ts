import { isIP } from 'node:net';
import { z } from 'zod';
import { describe } from './problems.js';

// Zod schemas for gateway.yaml and SIP profile files. Every object is strict
// (a typo must not silently fall back to a default) and every leaf carries its
// own error text, because these messages are what an operator reads.
// `profiles:` and `agents:` entries are validated one by one by the loader
// (they come in two shapes each) so their schemas here accept any list.

import { intIn, list, mustBe, obj, oneOf, stringWhere, toNumber } from './zod-helpers.js';
import { VENDOR_NAMES, VENDOR_SETTINGS } from '../vendors/settings.js';

export { intIn };

const unique = (what: string) => (items: readonly unknown[], ctx: z.RefinementCtx) => {
  items.forEach((item, i) => {
    if (items.indexOf(item) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate ${what} ${describe(item)}` });
  });
};

// ---- leaf validators -------------------------------------------------------

export const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';

export function isCidr(s: string): boolean {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(s);
  if (!m) return false;
  const family = isIP(m[1]!);
  return family !== 0 && Number(m[2]) <= (family === 4 ? 32 : 128);
}

export function isEngineUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** An engine reference: a builtin, a ws(s) URL, or the name of an entry in `engines:`. */
export function isEngine(s: string): boolean {
  return s === 'builtin:echo' || s === 'builtin:demo' || s === 'webrtc:sip' || s === 'webrtc:attach' || isEngineUrl(s) || NAME.test(s);
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_TEXT = '1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit';

const bindAddress = stringWhere('an IP address (IPv4 or IPv6)', (s) => isIP(s) !== 0);
export const isName = (s: string) => NAME.test(s);
const name = stringWhere(NAME_TEXT, isName);
const engine = stringWhere(
  "'builtin:echo', 'builtin:demo', 'webrtc:sip' (the agent's registered SIP.js endpoint), 'webrtc:attach' (an engine attached over /webrtc signaling), a ws:// or wss:// URL, or the name of an entry in engines:",
  isEngine,
);
const cidr = stringWhere('a CIDR (address/prefix, e.g. 10.0.0.0/8 or ::1/128)', isCidr);
/** Unquoted YAML numbers lose a leading '+' and leading zeros, so numbers must be strings. */
const phoneNumber = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number'
        ? `must be a quoted string, e.g. "+18990000001" (unquoted, YAML reads a number and drops '+' and leading zeros), got ${iss.input}`
        : mustBe('a quoted string such as "+18990000001"')(iss),
  })
  .min(1, { error: 'must not be empty' });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const NORMALIZATIONS = ['nanp', 'digits', 'exact'] as const;
export const NormalizationSchema = oneOf(NORMALIZATIONS);

// ---- gateway.yaml ----------------------------------------------------------

const GatewaySection = obj({
  name: name.default('vagw'),
  http: obj({ host: bindAddress.default('127.0.0.1'), port: intIn(0, 65535).default(8080) }).prefault({}),
  limits: obj({
    maxCalls: intIn(1, 1_000_000).default(2000),
    maxCallsPerSecond: intIn(1, 1_000_000).default(2500),
    retryAfterSeconds: intIn(0, 86_400).default(5),
  }).prefault({}),
  // Early 503 before goodput falls (src/call/overload.ts): a new call is refused while one of
  // these is over its limit; 0 turns that signal off.
  overload: obj({
    eventLoopDelayMs: intIn(0, 10_000, 'an integer 0..10000 (0 = off)').default(150),
    // Percent of the time the main thread is busy; over it, contact centers are offered fewer
    // agents (the Ready gate) and calls nobody routed are refused.
    eventLoopUtilization: intIn(0, 100, 'an integer 0..100 percent (0 = off)').default(95),
    mediaLatenessMs: intIn(0, 10_000, 'an integer 0..10000 (0 = off)').default(60),
    pendingWrapUps: intIn(0, 1_000_000, 'an integer 0..1000000 (0 = off)').default(0),
    // The oldest wrap-up step the contact center has not confirmed: its API is too slow.
    wrapUpAgeMs: intIn(0, 3_600_000, 'an integer 0..3600000 (0 = off)').default(3000),
    callsInSetup: intIn(0, 1_000_000, 'an integer 0..1000000 (0 = off)').default(300),
  }).prefault({}),
  drainTimeoutSeconds: intIn(0, 3600).default(30),
  logLevel: oneOf(LOG_LEVELS).default('info'),
  // Bearer token server-side WebRTC engines present on /webrtc (use ${ENV}); unset: /webrtc refuses all.
  attachToken: z.string({ error: mustBe('a string') }).min(16, { error: 'must be at least 16 characters' }).optional(),
});

const MediaSection = obj({
  host: stringWhere('a specific IP address (not 0.0.0.0 or ::); it goes into SDP c=', (s) => isIP(s) !== 0 && !isWildcard(s)).default('127.0.0.1'),
  // RTP uses the even port, RTCP the odd one after it: ranges start even.
  rtpPortMin: intIn(1024, 65534, 'an even integer 1024..65534', 2).default(20000),
  rtpPortMax: intIn(1024, 65535).default(39999),
  // Media worker threads; 0 = one per CPU core.
  workers: intIn(0, 64).default(0),
  // No RTP from the caller for this long (while the caller should be sending) ends the call.
  rtpTimeoutSeconds: intIn(0, 3600, 'an integer 0..3600 (0 = never)').default(30),
  jitterMinMs: intIn(0, 200).default(20),
  jitterMaxMs: intIn(20, 500).default(60),
  // Audio an engine may queue ahead of real time before it is told `backpressure`.
  engineBufferSeconds: intIn(1, 120).default(10),
  // WebRTC far ends (browsers, SIP.js, server-side WebRTC engines): ICE candidates bind only in
  // icePortMin..icePortMax (outside the RTP range), so a firewall rule can name them.
  webrtc: obj({
    icePortMin: intIn(1024, 65535).default(40000),
    icePortMax: intIn(1024, 65535).default(40999),
    // Behind 1:1 NAT (a cloud VM): the public address written into our host candidates.
    advertisedAddress: stringWhere('an IP address (IPv4)', (s) => isIP(s) === 4).optional(),
    // STUN/TURN servers offered to ICE, e.g. [{ urls: "turn:turn.example.com:3478", username: u, credential: p }].
    iceServers: z
      .array(obj({ urls: stringWhere('a stun:, stuns:, turn: or turns: URL', (s) => /^(stuns?|turns?):[^\s]+$/.test(s)), username: z.string().optional(), credential: z.string().optional() }), { error: mustBe('a list of { urls, username?, credential? }') })
      .default([]),
  }).prefault({}),
}).superRefine((m, ctx) => {
  const w = m.webrtc;
  if (w.icePortMax < w.icePortMin) {
    ctx.addIssue({ code: 'custom', path: ['webrtc', 'icePortMax'], message: `must be >= icePortMin (${w.icePortMin}), got ${w.icePortMax}` });
  } else if (m.rtpPortMin < m.rtpPortMax && m.rtpPortMax <= 65535 && w.icePortMin <= m.rtpPortMax && w.icePortMax >= m.rtpPortMin) {
    ctx.addIssue({ code: 'custom', path: ['webrtc', 'icePortMin'], message: `the ICE range ${w.icePortMin}..${w.icePortMax} overlaps the RTP range ${m.rtpPortMin}..${m.rtpPortMax}: a WebRTC call could take a port an RTP call needs` });
  }
}).superRefine((m, ctx) => {
  if (m.jitterMaxMs < m.jitterMinMs) {
    ctx.addIssue({ code: 'custom', path: ['jitterMaxMs'], message: `must be >= jitterMinMs (${m.jitterMinMs}), got ${m.jitterMaxMs}` });
  }
}).superRefine((m, ctx) => {
  if (m.rtpPortMax <= m.rtpPortMin) {
    ctx.addIssue({ code: 'custom', path: ['rtpPortMax'], message: `must be greater than rtpPortMin (${m.rtpPortMin}), got ${m.rtpPortMax}` });
  }
});

const SampleRate = z.preprocess(toNumber, z.union([z.literal(8000), z.literal(16000)], { error: mustBe('8000 or 16000') }));

const EngineEntry = obj({
  url: stringWhere('a ws:// or wss:// URL', isEngineUrl),
  // The wire protocol (docs/engine-protocol.md; jambonz and asterisk: docs/stream-dialects.md).
  protocol: oneOf(['twilio', 'l16', 'jambonz', 'asterisk']).default('twilio'),
  // HMAC secret for the Bearer token the engine can verify; use ${ENV}, never a literal.
  secret: z.string({ error: mustBe('a string') }).min(16, { error: 'must be at least 16 characters' }).optional(),
  // Password of Twilio-compatible REST call control for this engine's calls (HTTP Basic, user =
  // the AccountSid of `start`); unset: the REST API refuses it. Use ${ENV}.
  restAuthToken: z.string({ error: mustBe('a string') }).min(16, { error: 'must be at least 16 characters' }).optional(),
  connectTimeoutMs: intIn(100, 60_000).default(3000),
  tlsRejectUnauthorized: z.boolean({ error: mustBe('true or false') }).default(true),
  // The listen verb's sampleRate and bidirectionalAudio.sampleRate (protocol: jambonz).
  jambonz: obj({ sampleRate: SampleRate.default(8000), replySampleRate: SampleRate.optional() }).optional(),
  // The channel's codec and chan_websocket's control message format (protocol: asterisk).
  asterisk: obj({ format: oneOf(['ulaw', 'slin', 'slin16']).default('ulaw'), controlFormat: oneOf(['json', 'plain-text']).default('json') }).optional(),
}).superRefine((e, ctx) => {
  for (const key of ['jambonz', 'asterisk'] as const) {
    if (e[key] !== undefined && e.protocol !== key) ctx.addIssue({ code: 'custom', path: [key], message: `applies to protocol ${key} only (this engine's protocol is ${e.protocol})` });
  }
}).transform((e) => {
  // A dialect's settings are always there for its protocol, with the platform's defaults.
  if (e.protocol === 'jambonz') e.jambonz ??= { sampleRate: 8000 };
  if (e.protocol === 'asterisk') e.asterisk ??= { format: 'ulaw', controlFormat: 'json' };
  return e;
});

/** Each platform's settings section (`livevox:`, ...), declared in its own folder (src/vendors/<name>/settings.ts). */
const vendorSections = Object.fromEntries(Object.entries(VENDOR_SETTINGS).map(([k, v]) => [k, (v as z.ZodObject).prefault({})])) as {
  [K in keyof typeof VENDOR_SETTINGS]: z.ZodPrefault<(typeof VENDOR_SETTINGS)[K]>;
};

/**
 * Several gateway nodes behind Kamailio (issue 13): which node owns which agent, in Redis. Absent:
 * one node serves every agent (the default; `npm start` needs no Redis).
 */
const ClusterSection = obj({
  redis: stringWhere('a redis:// or rediss:// URL', (s) => /^rediss?:\/\/[^\s]+$/.test(s)),
  // The cluster's name (Redis key prefix vagw:<name>:): nodes of one cluster share it.
  name: stringWhere('1-32 of A-Z a-z 0-9 . _ -', (s) => /^[A-Za-z0-9._-]{1,32}$/.test(s)).default('default'),
  // Unique per node; default the host name and the gateway's HTTP port.
  nodeId: stringWhere('1-64 of A-Z a-z 0-9 . _ : -', (s) => /^[A-Za-z0-9._:-]{1,64}$/.test(s)).optional(),
  // host:port where Kamailio reaches this node's SIP (default: the first profile's advertised address).
  sipAddress: stringWhere('host:port', (s) => /^[A-Za-z0-9.:[\]-]+:[0-9]{1,5}$/.test(s)).optional(),
  // host:port where the other nodes reach this node's REST API (cluster-wide /calls, /agents);
  // default gateway.http.host (the SIP address's host when that is a wildcard) and the HTTP port.
  httpAddress: stringWhere('host:port', (s) => /^[A-Za-z0-9.:[\]-]+:[0-9]{1,5}$/.test(s)).optional(),
  // How long an agent's lease lives without renewal: how soon a dead node's agents move.
  leaseTtlMs: intIn(1000, 120_000).default(10_000),
});

export const GatewayFileSchema = obj({
  gateway: GatewaySection.prefault({}),
  cluster: ClusterSection.optional(),
  ...vendorSections,
  // Where durable state (the wrap-up outbox) lives; relative to gateway.yaml.
  dataDir: z.string({ error: mustBe('a directory path') }).min(1).default('data'),
  media: MediaSection.prefault({}),
  engines: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: NAME_TEXT }), EngineEntry, { error: mustBe('a mapping of engine name to settings') }).default({}),
  profiles: list(z.unknown(), 'a list of profile file paths or inline profiles', 'must list at least one SIP profile'),
});

// ---- SIP profiles ----------------------------------------------------------

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const hoursRange = stringWhere('"HH:MM-HH:MM" (24 h, end after start) or "closed"', (s) => {
  if (s === 'closed') return true;
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/.exec(s);
  return !!m && Number(m[3]) * 60 + Number(m[4]) > Number(m[1]) * 60 + Number(m[2]) && Number(m[3]) * 60 + Number(m[4]) <= 1440;
});
const timeZone = stringWhere('an IANA time zone such as America/New_York', (s) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: s });
    return true;
  } catch {
    return false;
  }
});

const ContactCenter = obj({
  // none: agents are available as configured (no contact-center API); a platform's name: driven
  // through its API (src/vendors/registry.ts).
  vendor: oneOf(['none', ...VENDOR_NAMES]).default('none'),
  serviceId: z.string({ error: mustBe('a string') }).min(1).optional(),
  // Default contact-center password of this profile's agents; use ${ENV}.
  password: z.string({ error: mustBe('a string') }).min(1).optional(),
  openHours: obj({
    timeZone,
    weekly: obj(Object.fromEntries(DAYS.map((d) => [d, hoursRange.default('closed')])) as Record<(typeof DAYS)[number], z.ZodDefault<typeof hoursRange>>),
  }).optional(),
  keepAliveMinutes: intIn(1, 1440).default(60),
  screenPopWaitMs: intIn(0, 10_000).default(1500),
  termCodes: obj({
    completed: z.string().min(1).default('AI Completed'),
    callerHungUp: z.string().min(1).default('Caller Hung Up'),
    transferred: z.string().min(1).default('Transferred to Agent'),
    failed: z.string().min(1).default('AI Failure'),
  }).prefault({}),
  wrapUp: obj({ maxAttempts: intIn(1, 100).default(8), retryMs: intIn(10, 60_000).default(500) }).prefault({}),
}).superRefine((c, ctx) => {
  if (c.vendor !== 'none' && !c.serviceId) ctx.addIssue({ code: 'custom', path: ['serviceId'], message: `is required when vendor is ${c.vendor}` });
});

const Listen = obj({
  host: bindAddress.default('127.0.0.1'),
  port: intIn(1, 65535),
  transports: list(oneOf(['udp', 'tcp']), 'a list of transports (udp, tcp)', 'must list at least one transport')
    .superRefine(unique('transport'))
    .default(['udp', 'tcp']),
  advertisedHost: stringWhere('an IP address or DNS name (not 0.0.0.0 or ::)', (s) => !isWildcard(s) && (isIP(s) !== 0 || HOSTNAME.test(s))).optional(),
  // SIP over WebSocket (RFC 7118) on the gateway's HTTP port at /sip: browsers (SIP.js) register
  // as this profile's agents. At most one profile may take it.
  websocket: z.boolean({ error: mustBe('true or false') }).default(false),
})
  .superRefine((l, ctx) => {
    if (l.advertisedHost === undefined && isWildcard(l.host)) {
      const message = `is required when listen.host is ${l.host}: Via and Contact need an address peers can reach`;
      ctx.addIssue({ code: 'custom', path: ['advertisedHost'], message });
    }
  })
  .transform((l) => ({ ...l, advertisedHost: l.advertisedHost ?? l.host }));

const Codecs = list(oneOf(['PCMU', 'PCMA', 'telephone-event']), 'a list of codecs', 'must list at least one codec')
  .superRefine(unique('codec'))
  .refine((c) => c.includes('PCMU') || c.includes('PCMA'), {
    error: 'must include an audio codec (PCMU or PCMA); telephone-event only carries DTMF',
  });

const SessionTimer = obj({
  minSE: intIn(90, 86_400).default(90),
  defaultExpires: intIn(90, 86_400).default(1800),
}).superRefine((t, ctx) => {
  if (t.defaultExpires < t.minSE) {
    ctx.addIssue({ code: 'custom', path: ['defaultExpires'], message: `must be >= minSE (${t.minSE}), got ${t.defaultExpires}` });
  }
});

// Protection of the SIP edge (UDP/TCP; SIP over WebSocket authenticates with digest instead).
const Edge = obj({
  untrusted: oneOf(['ignore', 'reject']).default('ignore'),
  perSourceRequestsPerSecond: intIn(0, 1_000_000, 'an integer 0..1000000 (0 = no limit)').default(2000),
  perSourceBurst: intIn(1, 10_000_000).optional(),
  tcp: obj({
    maxConnections: intIn(1, 1_000_000).default(2000),
    maxConnectionsPerSource: intIn(1, 1_000_000).default(64),
    messageTimeoutSeconds: intIn(1, 300).default(10),
    // RFC 5626 §4.4.1 keep-alives come every 95-120 s: anything shorter would cut live flows.
    idleTimeoutSeconds: intIn(130, 86_400, 'an integer 130..86400 (longer than the RFC 5626 keep-alive interval)').default(300),
  }).prefault({}),
});

export const ProfileSchema = obj({
  name,
  listen: Listen,
  trustedSources: z
    .array(cidr, { error: mustBe('a list of CIDRs allowed to send SIP (use 0.0.0.0/0 and ::/0 to trust everyone)') })
    .min(1, { error: 'must not be empty: nobody would be trusted (use 0.0.0.0/0 and ::/0 to trust everyone)' }),
  codecs: Codecs.default(['PCMU', 'PCMA', 'telephone-event']),
  ptime: intIn(10, 60, 'a multiple of 10 in 10..60', 10).default(20),
  numberNormalization: NormalizationSchema.default('nanp'),
  maxCallSeconds: intIn(0, 604_800, 'an integer 0..604800 (0 = no limit)').default(14_400),
  answerDelayMs: intIn(0, 60_000, 'an integer 0..60000').default(0),
  sessionTimer: SessionTimer.prefault({}),
  edge: Edge.prefault({}),
  engine: engine.default('builtin:echo'),
  engineFailure: obj({
    policy: oneOf(['hangup', 'transfer', 'play']).default('hangup'),
    transferTarget: z.string({ error: mustBe('a string') }).min(1).optional(),
    audioFile: z.string({ error: mustBe('a file path') }).min(1).optional(),
    reconnectWindowMs: intIn(0, 30_000).default(2000),
  })
    .superRefine((f, ctx) => {
      if (f.policy === 'transfer' && !f.transferTarget) ctx.addIssue({ code: 'custom', path: ['transferTarget'], message: 'is required when policy is transfer' });
      if (f.policy === 'play' && !f.audioFile) ctx.addIssue({ code: 'custom', path: ['audioFile'], message: 'is required when policy is play' });
    })
    .prefault({}),
  contactCenter: ContactCenter.prefault({}),
  // WebRTC far ends (engines 'webrtc:sip' and 'webrtc:attach'): codecs we offer, in order of
  // preference, and how long ICE + DTLS may take before the engine failure policy applies.
  webrtc: obj({
    codecs: list(oneOf(['opus', 'PCMU', 'PCMA']), 'a list of WebRTC codecs', 'must list at least one codec')
      .superRefine(unique('codec'))
      .default(['PCMU', 'opus']),
    connectTimeoutSeconds: intIn(1, 120).default(30),
  }).prefault({}),
  agents: list(z.unknown(), 'a list of agents', 'must list at least one agent'),
});

// ---- agents ----------------------------------------------------------------

const agentCommon = {
  initialState: oneOf(['ready', 'not-ready']).default('ready'),
  engine: engine.optional(),
  // Contact-center login of the agent: user defaults to the agent id, password to the profile's.
  vendorUser: z.string({ error: mustBe('a string') }).min(1).optional(),
  vendorPassword: z.string({ error: mustBe('a string') }).min(1).optional(),
  // Digest password for REGISTER over SIP WebSocket (use ${ENV}); without it the agent cannot register.
  sipPassword: z.string({ error: mustBe('a string') }).min(1, { error: 'must not be empty' }).optional(),
};

export const AgentSchema = obj({ id: name, number: phoneNumber, ...agentCommon });

export const AgentRangeSchema = obj({
  range: obj({ from: phoneNumber, count: intIn(1, 10_000) }),
  idPrefix: stringWhere('0-40 characters of A-Z a-z 0-9 . _ -', (s) => /^[A-Za-z0-9._-]{0,40}$/.test(s)),
  idStart: intIn(0, 1_000_000_000).default(1),
  idWidth: intIn(0, 12, 'an integer 0..12 (zero-padded id width)').default(0),
  ...agentCommon,
});

export type GatewayFile = z.output<typeof GatewayFileSchema>;
export type ProfileFile = z.output<typeof ProfileSchema>;
export type AgentEntry = z.output<typeof AgentSchema>;
export type AgentRangeEntry = z.output<typeof AgentRangeSchema>;
