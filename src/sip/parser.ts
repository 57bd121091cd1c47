/**
 * SIP message parser (RFC 3261 §7, §25). Two steps: `parseMessage` turns bytes into a message and
 * rejects what cannot be a SIP message at all; `validate` applies the semantic checks a UAS needs
 * before it may act (mandatory headers, CSeq/method agreement, Content-Length). A failure carries a
 * SIP status and a reason phrase, plus the partly parsed message so a 400 can still be addressed.
 */
import { SipHeaders, newRequest, newResponse, splitList, type SipMessage, type SipRequest } from './message.js';
import { isNameAddr, parseCSeq, parseNameAddr, parseUri, parseVia, SipSyntaxError } from './grammar.js';

export interface ParseLimits {
  /** Largest whole message accepted (bytes). */
  maxMessageBytes: number;
  /** Most header fields accepted in one message. */
  maxHeaders: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxMessageBytes: 65_535, maxHeaders: 200 };

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  constructor(
    /** Reason phrase for the response; also the log message. */
    readonly reason: string,
    /** Status to answer with when the message is a request that can be addressed. */
    readonly status = 400,
    /** What could be parsed, to address a 400 (RFC 3261 §8.2.6 copies Via/From/To/Call-ID/CSeq). */
    readonly partial?: SipMessage,
  ) {
    super(reason);
  }
}

const TOKEN_RE = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const DATE_RE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/i;
const MAGIC_COOKIE = 'z9hG4bK';
/** Methods defined by RFC 3261 and its extensions (§27.4 registry) that a UAS may meet. */
const STANDARD_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);

/**
 * Index of the end of the header section and the separator length, or null. The separator is the
 * first empty line: CRLF CRLF, or (leniently, some test tools send bare LF line ends) LF LF or a mix
 * of the two. The earliest one wins, so a body holding CRLFCRLF after LF-terminated headers, or LF LF
 * after CRLF-terminated ones, is never mistaken for the end of the headers.
 */
export function findHeaderEnd(buf: Buffer, from = 0): { end: number; sepLen: number } | null {
  let i = buf.indexOf(10, from);
  while (i >= 0) {
    let next = i + 1;
    if (buf[next] === 13) next++;
    if (buf[next] === 10) {
      const end = i > 0 && buf[i - 1] === 13 ? i - 1 : i;
      return { end, sepLen: next + 1 - end };
    }
    i = buf.indexOf(10, i + 1);
  }
  return null;
}

/** Parse one complete message (a UDP datagram, or one framed TCP message). */
export function parseMessage(buf: Buffer, limits: ParseLimits = DEFAULT_LIMITS): SipMessage {
  if (buf.length > limits.maxMessageBytes) {
    throw new SipParseError(`Message exceeds ${limits.maxMessageBytes} bytes`, 513);
  }
  let start = 0;
  // RFC 3261 §7.5: CRLFs before the start-line are ignored.
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  if (start >= buf.length) throw new SipParseError('Empty message');
  const he = findHeaderEnd(buf, start);
  // RFC 3261 §7: the empty line after the headers is mandatory, even without a body. Without it
  // the datagram may have been cut short, so nothing in it can be trusted (the partial still helps).
  const headEnd = he ? he.end : buf.length;
  const head = buf.toString('utf8', start, headEnd);
  const body: Buffer = he ? buf.subarray(he.end + he.sepLen) : Buffer.alloc(0);

  const rawLines = head.split(/\r?\n/);
  const startLine = rawLines[0]!;
  const headers = new SipHeaders();
  let count = 0;
  let pending: string | null = null;
  let headerError: string | null = he ? null : 'Missing empty line after the header fields';
  const flush = (line: string): void => {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name || !TOKEN_RE.test(name)) {
      headerError ??= `Malformed header line '${line.slice(0, 40)}'`;
      return;
    }
    if (++count > limits.maxHeaders) {
      headerError ??= `More than ${limits.maxHeaders} header fields`;
      return;
    }
    headers.add(name, line.slice(colon + 1).trim());
  };
  for (let i = 1; i < rawLines.length; i++) {
    const line = rawLines[i]!;
    if (!he && i === rawLines.length - 1 && line === '') break; // the headers' final line end
    // CR only ever appears as part of CRLF (not even a quoted-pair may escape it, §25.1).
    if (line.includes('\r')) headerError ??= 'Bare CR in a header field';
    if (line.length > 0 && (line[0] === ' ' || line[0] === '\t')) {
      // RFC 3261 §7.3.1: a line starting with whitespace continues the previous header (folding).
      if (pending === null) headerError ??= 'Continuation line before any header';
      else pending += ' ' + line.trim();
      continue;
    }
    if (pending !== null) flush(pending);
    pending = line;
  }
  if (pending !== null && pending.length > 0) flush(pending);

  const msg = parseStartLine(startLine, headers, body);
  if (headerError) throw new SipParseError(headerError, 400, msg);
  return msg;
}

function parseStartLine(line: string, headers: SipHeaders, body: Buffer): SipMessage {
  if (/^SIP\//i.test(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; the code is exactly three digits
    // (a bare code without the SP and reason is tolerated).
    const m = /^SIP\/(\d+\.\d+) (\d{3})(?: (.*))?$/i.exec(line);
    if (!m) throw new SipParseError(`Malformed status line '${line.slice(0, 60)}'`);
    const status = Number(m[2]);
    if (status < 100 || status > 699) throw new SipParseError(`Status code ${status} out of range`);
    if (m[1] !== '2.0') throw new SipParseError(`SIP version SIP/${m[1]} not supported`, 505);
    return newResponse(status, m[3] ?? '', headers, body);
  }
  const parts = line.split(' ');
  if (parts.length !== 3) {
    // RFC 3261 §7.1: exactly single SP separators; whitespace in the Request-URI is invalid.
    const partial = parts.length > 3 ? newRequest(parts[0]!, parts.slice(1, -1).join(' '), headers, body) : undefined;
    throw new SipParseError('Malformed request line', 400, partial);
  }
  const [method, uri, version] = parts as [string, string, string];
  const req = newRequest(method, uri, headers, body);
  if (!TOKEN_RE.test(method)) throw new SipParseError(`Invalid method '${method.slice(0, 20)}'`, 400, req);
  if (!/^SIP\/\d+\.\d+$/i.test(version)) throw new SipParseError(`Malformed SIP version '${version.slice(0, 20)}'`, 400, req);
  if (version.toUpperCase() !== 'SIP/2.0') throw new SipParseError(`SIP version ${version} not supported`, 505, req);
  return req;
}

/**
 * Semantic checks before a message is handed to the transaction layer. Returns the message with
 * its body cut to Content-Length (RFC 3261 §18.3: extra bytes in a datagram are discarded).
 */
export function validate(msg: SipMessage, stream = false): SipMessage {
  const h = msg.headers;
  const fail = (reason: string, status = 400): never => {
    throw new SipParseError(reason, status, msg);
  };
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    if (!h.has(name)) fail(`Missing ${name} header`);
  }
  for (const name of SINGLE_VALUED) {
    const lines = h.lines(name);
    if (lines.length > 1) {
      // Identical repeats are tolerated (as in HTTP); different values cannot be reconciled.
      const distinct = new Set(lines.map((v) => v.replace(/\s+/g, '')));
      if (distinct.size > 1) fail(`Conflicting ${name} headers`);
    }
    // RFC 4475 §3.3.8: several comma-separated values in a field that allows only one (Date holds
    // a comma of its own and is checked by its grammar below).
    if (name !== 'Date') for (const v of lines) if (splitList(v).length > 1) fail(`Multiple values in ${name}`);
  }
  try {
    const vias = h.getAll('Via');
    if (vias.length === 0) fail('Empty Via header');
    for (const v of vias) parseVia(v);
    const cseq = parseCSeq(h.get('CSeq')!);
    for (const name of ['From', 'To']) checkAddress(h.get(name)!, false);
    for (const v of h.getAll('Contact')) {
      if (v === '*') {
        if (h.getAll('Contact').length > 1) fail("Contact '*' combined with other values");
      } else checkAddress(v, false);
    }
    // Route and Record-Route values are always name-addr (§20.30, §20.34).
    for (const name of ['Record-Route', 'Route']) for (const v of h.getAll(name)) checkAddress(v, true);
    if (msg.type === 'request') {
      // RFC 4475 §3.1.2.18: when the request's own method is unknown, 501 says more than 400.
      if (cseq.method !== msg.method) fail(`CSeq method ${cseq.method.slice(0, 20)} does not match ${msg.method.slice(0, 20)}`, STANDARD_METHODS.has(msg.method) ? 400 : 501);
      const uri = parseUri(msg.uri);
      // §19.1.1 table: the headers component is not allowed in a Request-URI.
      const sip = uri.scheme === 'sip' || uri.scheme === 'sips';
      if (sip && msg.uri.slice(msg.uri.indexOf('@') + 1).includes('?')) fail('Request-URI must not contain headers');
      // Other schemes are opaque here (the application answers 416), but must still be URI characters.
      if (!sip && uri.scheme !== 'tel' && !/^[A-Za-z0-9\-_.!~*'();/?:@&=+$,%[\]]+$/.test(uri.host)) {
        fail('Invalid Request-URI');
      }
      // §17.2.3: a branch that is only the magic cookie identifies no transaction (RFC 4475 §3.2.1).
      if (parseVia(vias[0]!).params['branch'] === MAGIC_COOKIE) fail('Via branch has no transaction identifier');
    }
  } catch (e) {
    if (e instanceof SipSyntaxError) fail(capitalize(e.message));
    throw e;
  }
  if (!h.get('Call-ID')) fail('Empty Call-ID');
  const mf = h.get('Max-Forwards');
  // §20.22: 1*DIGIT (leading zeros allowed), 0-255.
  if (mf !== undefined && (!/^\d+$/.test(mf) || Number(mf) > 255)) fail(`Invalid Max-Forwards '${mf.slice(0, 20)}'`);
  const date = h.get('Date');
  // §20.17: rfc1123-date, always in GMT (RFC 4475 §3.1.2.12).
  if (date !== undefined && !DATE_RE.test(date)) fail(`Invalid Date '${date.slice(0, 40)}'`);
  const cl = h.get('Content-Length');
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) fail(`Invalid Content-Length '${cl.slice(0, 20)}'`);
    const n = Number(cl);
    if (n > msg.body.length) fail(`Content-Length ${n} exceeds the ${msg.body.length} body bytes received`);
    if (n < msg.body.length) msg.body = msg.body.subarray(0, n);
  } else if (stream && msg.body.length > 0) {
    fail('Missing Content-Length on a stream transport');
  }
  return msg;
}

/** Fields that hold a single value (RFC 3261 §7.3.1: only list fields may repeat). */
const SINGLE_VALUED = ['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Expires', 'Date'];

/** A From/To/Contact/Route value: name-addr or (unless `nameAddrOnly`) addr-spec, with a valid URI. */
function checkAddress(value: string, nameAddrOnly: boolean): void {
  const na = parseNameAddr(value);
  if (nameAddrOnly && !isNameAddr(value)) throw new SipSyntaxError(`'${value.slice(0, 60)}' must be a name-addr`);
  parseUri(na.uri);
}

/** Parse and validate in one step. */
export function parseAndValidate(buf: Buffer, stream = false, limits = DEFAULT_LIMITS): SipMessage {
  return validate(parseMessage(buf, limits), stream);
}

/**
 * Whether a rejected message can be answered: a request other than ACK (§17.2.1: never answered)
 * with a Via and a CSeq to copy. Missing From, To or Call-ID do not stop the 400 (RFC 4475 §3.3.1:
 * the response says what is missing; it copies what there is).
 */
export function canAnswer(msg: SipMessage | undefined): msg is SipRequest {
  if (!msg || msg.type !== 'request' || msg.method === 'ACK') return false;
  const h = msg.headers;
  return h.has('Via') && h.has('CSeq');
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
