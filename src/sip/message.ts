/**
 * SIP message model (RFC 3261 §7). Header names are kept in their canonical long form so that
 * compact forms (§7.3.3) and case differences (§7.3.1) never leak past the parser.
 */

/** Compact header forms, RFC 3261 §7.3.3 plus the registry entries of later RFCs. */
const COMPACT: Record<string, string> = {
  a: 'accept-contact', b: 'referred-by', c: 'content-type', d: 'request-disposition',
  e: 'content-encoding', f: 'from', i: 'call-id', j: 'reject-contact', k: 'supported',
  l: 'content-length', m: 'contact', n: 'identity-info', o: 'event', r: 'refer-to',
  s: 'subject', t: 'to', u: 'allow-events', v: 'via', x: 'session-expires', y: 'identity',
};

/** Canonical spellings where simple Title-Case would be wrong. */
const SPECIAL_CASE: Record<string, string> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version',
  'min-se': 'Min-SE', 'rack': 'RAck', 'rseq': 'RSeq', 'session-id': 'Session-ID', dnis: 'DNIS',
};

/**
 * Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1): several values may share one
 * line and mean the same as several lines. Other headers (e.g. WWW-Authenticate, Date) contain commas
 * that are not separators, so they are never split.
 */
const LIST_HEADERS = new Set([
  // RFC 3261 §20
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'content-encoding', 'allow-events',
  'in-reply-to', 'alert-info', 'call-info', 'error-info', 'content-language', 'warning',
  // extensions (RFC 3327, 3608, 3325, 3326, 7044, 3841, 3329, 7455, 4412, 6086)
  'path', 'service-route', 'p-asserted-identity', 'p-preferred-identity', 'reason', 'history-info',
  'accept-contact', 'reject-contact', 'request-disposition', 'security-client', 'security-server',
  'security-verify', 'p-associated-uri', 'resource-priority', 'accept-resource-priority', 'recv-info',
]);

const canonicalCache = new Map<string, string>();

/** Lower-case long form of a header name, expanding compact forms. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? COMPACT[lower] ?? lower : lower;
}

/** Canonical display form of a header name (e.g. `call-id` -> `Call-ID`). */
export function canonicalName(name: string): string {
  const key = headerKey(name);
  let c = canonicalCache.get(key);
  if (c === undefined) {
    c = SPECIAL_CASE[key] ?? key.replace(/(^|-)([a-z])/g, (_m, d: string, ch: string) => d + ch.toUpperCase());
    if (canonicalCache.size < 1024) canonicalCache.set(key, c);
  }
  return c;
}

export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(headerKey(name));
}

/**
 * Split a list header value on commas that are not inside quotes or angle brackets
 * (RFC 3261 §7.3.1, §20: name-addr may hold commas inside <> and display names inside quotes).
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (quoted) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) quoted = false;
    } else if (ch === 34) quoted = true;
    else if (ch === 60 /* < */) depth++;
    else if (ch === 62 /* > */) depth = Math.max(0, depth - 1);
    else if (ch === 44 /* , */ && depth === 0) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

interface Field { key: string; value: string }

/** Ordered header list with case-insensitive, compact-form-aware access. */
export class SipHeaders {
  private fields: Field[] = [];

  /** First value of a header (the whole line for non-list headers, first element for list headers). */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.fields) {
      if (f.key === key) return LIST_HEADERS.has(key) ? splitList(f.value)[0] : f.value;
    }
    return undefined;
  }

  /** Every value: list headers are split on their separating commas, in order. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = LIST_HEADERS.has(key);
    const out: string[] = [];
    for (const f of this.fields) {
      if (f.key !== key) continue;
      if (list) out.push(...splitList(f.value));
      else out.push(f.value);
    }
    return out;
  }

  /** Raw header lines (unsplit) for a name. */
  lines(name: string): string[] {
    const key = headerKey(name);
    return this.fields.filter((f) => f.key === key).map((f) => f.value);
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.fields.some((f) => f.key === key);
  }

  add(name: string, value: string): this {
    this.fields.push({ key: headerKey(name), value });
    return this;
  }

  /** Insert before every other field of the same name (used for Via, RFC 3261 §8.1.1.7). */
  prepend(name: string, value: string): this {
    const key = headerKey(name);
    const idx = this.fields.findIndex((f) => f.key === key);
    this.fields.splice(idx < 0 ? this.fields.length : idx, 0, { key, value });
    return this;
  }

  set(name: string, value: string): this {
    const key = headerKey(name);
    const idx = this.fields.findIndex((f) => f.key === key);
    if (idx < 0) {
      this.fields.push({ key, value });
      return this;
    }
    this.fields[idx] = { key, value };
    this.fields = this.fields.filter((f, i) => f.key !== key || i === idx);
    return this;
  }

  /** Replace the first value only (e.g. the top Via after adding `received`). */
  replaceFirst(name: string, value: string): this {
    const key = headerKey(name);
    const f = this.fields.find((x) => x.key === key);
    if (!f) return this.add(name, value);
    if (LIST_HEADERS.has(key)) {
      const parts = splitList(f.value);
      parts[0] = value;
      f.value = parts.join(', ');
    } else f.value = value;
    return this;
  }

  remove(name: string): this {
    const key = headerKey(name);
    this.fields = this.fields.filter((f) => f.key !== key);
    return this;
  }

  /** Fields in order as [canonical name, value]. */
  *entries(): IterableIterator<[string, string]> {
    for (const f of this.fields) yield [canonicalName(f.key), f.value];
  }

  clone(): SipHeaders {
    const h = new SipHeaders();
    h.fields = this.fields.map((f) => ({ ...f }));
    return h;
  }
}

export interface SipRequest {
  readonly type: 'request';
  method: string;
  /** Request-URI as written (parse with `parseUri` when needed). */
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  readonly type: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export function newRequest(method: string, uri: string, headers = new SipHeaders(), body: Buffer = Buffer.alloc(0)): SipRequest {
  return { type: 'request', method, uri, headers, body };
}

export function newResponse(status: number, reason: string, headers = new SipHeaders(), body: Buffer = Buffer.alloc(0)): SipResponse {
  return { type: 'response', status, reason, headers, body };
}

/** Default reason phrases (RFC 3261 §21 and extensions we emit). */
export const REASON: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 202: 'Accepted',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required',
  408: 'Request Timeout', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension',
  422: 'Session Interval Too Small', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending',
  500: 'Server Internal Error', 501: 'Not Implemented', 503: 'Service Unavailable', 505: 'Version Not Supported',
  513: 'Message Too Large',
};
