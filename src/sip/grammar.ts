/**
 * Parsers for the structured header values the stack acts on: SIP URIs (RFC 3261 §19.1),
 * name-addr / addr-spec (§20.10, §25.1), Via (§20.42), CSeq (§20.16) and generic parameters.
 * Each throws SipSyntaxError with a reason that can go into a 400 reason phrase.
 */
export class SipSyntaxError extends Error {
  override readonly name = 'SipSyntaxError';
}

export type Params = Record<string, string | null>;

export interface SipUri {
  scheme: string;
  user?: string;
  password?: string;
  /** Host without brackets for IPv6 references. Empty for tel: URIs. */
  host: string;
  port?: number;
  params: Params;
  headers: Record<string, string>;
}

/** Characters of a parameter name or unquoted value: token (§25.1) plus URI paramchar and host. */
const PARAM_CHARS_RE = /^[A-Za-z0-9\-_.!~*'()%`+\[\]\/:&$]+$/;

/**
 * Split `;a=b;c` parameters, honouring quoted strings (RFC 3261 §25.1 quoted-string). Strict:
 * every parameter follows a ';' (SEMI = SWS ";" SWS), empty parameters (`;;`), empty names or values
 * and whitespace inside a name or an unquoted value are syntax errors.
 */
export function parseParams(s: string): Params {
  const out: Params = {};
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  while (i < s.length) {
    if (s[i] !== ';') throw new SipSyntaxError(`expected ';' before parameter in '${s.slice(0, 60)}'`);
    i++;
    let j = i;
    let quoted = false;
    for (; j < s.length; j++) {
      const ch = s[j];
      if (quoted) {
        if (ch === '\\') j++;
        else if (ch === '"') quoted = false;
      } else if (ch === '"') quoted = true;
      else if (ch === ';') break;
    }
    if (quoted) throw new SipSyntaxError('unterminated quoted string in parameters');
    const part = s.slice(i, j).trim();
    if (!part) throw new SipSyntaxError(`empty parameter in '${s.slice(0, 60)}'`);
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!name) throw new SipSyntaxError('parameter without a name');
    if (!PARAM_CHARS_RE.test(name)) throw new SipSyntaxError(`invalid parameter name '${name.slice(0, 40)}'`);
    if (eq < 0) setOwn<string | null>(out, name, null);
    else {
      const value = part.slice(eq + 1).trim();
      if (!value) throw new SipSyntaxError(`empty value for parameter '${name.slice(0, 40)}'`);
      if (value.startsWith('"')) {
        if (quotedStringEnd(value, 0) !== value.length) throw new SipSyntaxError(`invalid quoted value for '${name.slice(0, 40)}'`);
      } else if (!PARAM_CHARS_RE.test(value)) {
        throw new SipSyntaxError(`invalid value for parameter '${name.slice(0, 40)}'`);
      }
      setOwn<string | null>(out, name, value);
    }
    i = j;
  }
  return out;
}

/** Assign as an own property even for names like `__proto__` (which `o[k] = v` would not store). */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** Index just past the quoted-string starting at `start` (which must be '"'), or -1 if unterminated. */
function quotedStringEnd(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return -1;
}

export function formatParams(p: Params): string {
  let s = '';
  for (const [k, v] of Object.entries(p)) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):/;

function parseHostPort(hp: string): { host: string; port?: number } {
  let host: string;
  let rest: string;
  if (hp.startsWith('[')) {
    const end = hp.indexOf(']');
    if (end < 0) throw new SipSyntaxError('unterminated IPv6 reference');
    host = hp.slice(1, end);
    rest = hp.slice(end + 1);
    // IPv6reference (§25.1): hex digits, ':' and an optional dotted IPv4 tail.
    if (!host.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(host)) throw new SipSyntaxError(`invalid IPv6 reference '${hp.slice(0, 60)}'`);
  } else {
    const colon = hp.indexOf(':');
    host = colon < 0 ? hp : hp.slice(0, colon);
    rest = colon < 0 ? '' : hp.slice(colon);
    if (!host || !/^[A-Za-z0-9.\-_]+$/.test(host)) throw new SipSyntaxError(`invalid host '${hp.slice(0, 60)}'`);
  }
  if (!rest) return { host };
  if (!/^:\d+$/.test(rest)) throw new SipSyntaxError(`invalid port in '${hp.slice(0, 60)}'`);
  const port = Number(rest.slice(1));
  if (port < 1 || port > 65535) throw new SipSyntaxError(`port out of range in '${hp.slice(0, 60)}'`);
  return { host, port };
}

/** Parse a SIP/SIPS/tel URI. Other schemes return only `scheme` and the opaque part as `host`. */
export function parseUri(raw: string): SipUri {
  const s = raw.trim();
  const m = SCHEME_RE.exec(s);
  if (!m) throw new SipSyntaxError(`URI without scheme: '${s.slice(0, 60)}'`);
  const scheme = m[1]!.toLowerCase();
  let rest = s.slice(m[0].length);
  if (/\s/.test(rest)) throw new SipSyntaxError('whitespace inside URI');
  if (!rest) throw new SipSyntaxError(`empty ${scheme} URI`);
  if (/[<>"]/.test(rest)) throw new SipSyntaxError(`invalid character in URI '${s.slice(0, 60)}'`);
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const user = semi < 0 ? rest : rest.slice(0, semi);
    if (!user) throw new SipSyntaxError('empty tel URI');
    return { scheme, user, host: '', params: semi < 0 ? {} : parseParams(rest.slice(semi)), headers: {} };
  }
  if (scheme !== 'sip' && scheme !== 'sips') return { scheme, host: rest, params: {}, headers: {} };
  // §25.1 escaped = "%" HEXDIG HEXDIG: a bare '%' is not allowed anywhere in a SIP URI.
  if (/%(?![0-9A-Fa-f]{2})/.test(rest)) throw new SipSyntaxError(`invalid escape in URI '${s.slice(0, 60)}'`);
  const uri: SipUri = { scheme, host: '', params: {}, headers: {} };
  // '@' cannot appear unescaped after the host (params and headers exclude it), so the first '@'
  // ends the userinfo even when the user part contains ';' or '?' (RFC 3261 §25.1 user-unreserved).
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    uri.user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (colon >= 0) uri.password = userinfo.slice(colon + 1);
    if (!uri.user) throw new SipSyntaxError('empty user part in URI');
    rest = rest.slice(at + 1);
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      if (eq === 0) throw new SipSyntaxError('URI header without a name');
      setOwn(uri.headers, eq < 0 ? pair : pair.slice(0, eq), eq < 0 ? '' : pair.slice(eq + 1));
    }
    rest = rest.slice(0, q);
  }
  const semi = rest.indexOf(';');
  const hostport = semi < 0 ? rest : rest.slice(0, semi);
  if (semi >= 0) uri.params = parseParams(rest.slice(semi));
  const hp = parseHostPort(hostport);
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  return uri;
}

export function formatUri(u: SipUri): string {
  if (u.scheme === 'tel') return `tel:${u.user ?? ''}${formatParams(u.params)}`;
  if (u.scheme !== 'sip' && u.scheme !== 'sips') return `${u.scheme}:${u.host}`;
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += u.user + (u.password !== undefined ? `:${u.password}` : '') + '@';
  s += u.host.includes(':') ? `[${u.host}]` : u.host;
  if (u.port !== undefined) s += `:${u.port}`;
  s += formatParams(u.params);
  const hs = Object.entries(u.headers);
  if (hs.length) s += '?' + hs.map(([k, v]) => `${k}=${v}`).join('&');
  return s;
}

/** Percent-decode a URI component (RFC 3261 §19.1.4: escaped and unescaped forms are equal). */
export function unescapeUri(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    throw new SipSyntaxError(`bad escape sequence in '${s}'`);
  }
}

export interface NameAddr {
  display?: string;
  uri: string;
  params: Params;
}

// RFC 3261 allows only tokens in an unquoted display name. Carriers do send unquoted UTF-8 names
// (e.g. `José Núñez <sip:...>`), so non-ASCII letters are tolerated; the separators that would make
// the value ambiguous (`,` `"` `<` `;` `@` `:`) are not.
const DISPLAY_TOKENS_RE = /^[A-Za-z0-9\-.!%*_+`'~\u0080-\uffff]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`'~\u0080-\uffff]+)*$/;

/**
 * Parse name-addr (`"Bob" <sip:b@h>;tag=1`) or addr-spec (`sip:b@h;tag=1`), RFC 3261 §20.10.
 * The display name is a quoted-string or a sequence of tokens; no LWS is allowed just inside the
 * angle brackets (LAQUOT/RAQUOT); only parameters may follow '>'.
 */
export function parseNameAddr(raw: string): NameAddr {
  const s = raw.trim();
  const lt = findUnquoted(s, '<');
  if (lt >= 0) {
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw new SipSyntaxError(`missing '>' in '${s.slice(0, 60)}'`);
    let display = s.slice(0, lt).trim();
    if (display.startsWith('"')) {
      if (quotedStringEnd(display, 0) !== display.length) throw new SipSyntaxError('invalid quoted display name');
      display = display.slice(1, -1).replace(/\\([\s\S])/g, '$1');
    } else if (display && !DISPLAY_TOKENS_RE.test(display)) {
      throw new SipSyntaxError(`display name '${display.slice(0, 40)}' must be quoted`);
    }
    const uri = s.slice(lt + 1, gt);
    if (!uri) throw new SipSyntaxError('empty URI in name-addr');
    if (/\s/.test(uri)) throw new SipSyntaxError(`whitespace inside <${uri.trim().slice(0, 60)}>`);
    const after = s.slice(gt + 1);
    if (after.trim() && !after.trimStart().startsWith(';')) {
      throw new SipSyntaxError(`unexpected text after '>' in '${s.slice(0, 60)}'`);
    }
    const out: NameAddr = { uri, params: parseParams(after) };
    if (display) out.display = display;
    return out;
  }
  if (s.startsWith('"')) throw new SipSyntaxError('display name without <URI>');
  // addr-spec form: parameters after the URI belong to the header (RFC 3261 §20.10), and a URI
  // holding a comma, '?' or ';' must be written as name-addr, so none can be part of it.
  const semi = s.indexOf(';');
  const uri = (semi < 0 ? s : s.slice(0, semi)).trimEnd();
  if (!uri || /[\s,?<>"]/.test(uri)) throw new SipSyntaxError(`invalid addr-spec '${s.slice(0, 60)}'`);
  return { uri, params: semi < 0 ? {} : parseParams(s.slice(semi)) };
}

/** Whether a From/To/Contact/Route value is in name-addr form (URI in angle brackets). */
export function isNameAddr(raw: string): boolean {
  return findUnquoted(raw, '<') >= 0;
}

export function formatNameAddr(n: NameAddr): string {
  const disp = n.display ? `"${n.display.replace(/(["\\])/g, '\\$1')}" ` : '';
  return `${disp}<${n.uri}>${formatParams(n.params)}`;
}

function findUnquoted(s: string, ch: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ch) return i;
  }
  return -1;
}

export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

/** Parse one Via value; LWS around '/' is allowed (RFC 3261 §25.1 SLASH = SWS "/" SWS). */
export function parseVia(raw: string): Via {
  const m = /^\s*SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+([^;\s]+(?:\s*:\s*\d+)?)\s*(;.*)?$/is.exec(raw);
  if (!m) throw new SipSyntaxError(`invalid Via '${raw.trim().slice(0, 80)}'`);
  const hp = parseHostPort(m[2]!.replace(/\s+/g, ''));
  const via: Via = { transport: m[1]!.toUpperCase(), host: hp.host, params: m[3] ? parseParams(m[3]) : {} };
  if (hp.port !== undefined) via.port = hp.port;
  return via;
}

export function formatVia(v: Via): string {
  const host = v.host.includes(':') ? `[${v.host}]` : v.host;
  return `SIP/2.0/${v.transport} ${host}${v.port !== undefined ? `:${v.port}` : ''}${formatParams(v.params)}`;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** CSeq: 32-bit unsigned sequence number and method (RFC 3261 §8.1.1.5). */
export function parseCSeq(raw: string): CSeq {
  const m = /^\s*(\d+)\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(raw);
  if (!m) throw new SipSyntaxError(`invalid CSeq '${raw.trim().slice(0, 40)}'`);
  const seq = Number(m[1]);
  if (seq > 0xffffffff) throw new SipSyntaxError('CSeq number exceeds 2**32-1');
  return { seq, method: m[2]! };
}

/** The `tag` parameter of a From/To value, or undefined. */
export function tagOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const t = parseNameAddr(value).params['tag'];
  return t === null || t === undefined ? undefined : t;
}
