/**
 * SIP message parser (RFC 3261 §7, §25). Two steps: `parseMessage` turns bytes into a message and
 * rejects what cannot be a SIP message at all; `validate` applies the semantic checks a UAS needs
 * before it may act (mandatory headers, CSeq/method agreement, Content-Length). A failure carries a
 * SIP status and a reason phrase, plus the partly parsed message so a 400 can still be addressed.
 */
import { SipHeaders, newRequest, newResponse, type SipMessage, type SipRequest } from './message.js';
import { parseCSeq, parseNameAddr, parseUri, parseVia, SipSyntaxError } from './grammar.js';

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
const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

/** Index of the end of the header section and the separator length, or null. */
export function findHeaderEnd(buf: Buffer, from = 0): { end: number; sepLen: number } | null {
  const i = buf.indexOf(CRLFCRLF, from);
  if (i >= 0) return { end: i, sepLen: 4 };
  // Bare LF line ends are not RFC 3261, but some test tools send them; accept them leniently.
  const j = buf.indexOf(LFLF, from);
  return j >= 0 ? { end: j, sepLen: 2 } : null;
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
  const headEnd = he ? he.end : buf.length;
  const head = buf.toString('utf8', start, headEnd);
  const body: Buffer = he ? buf.subarray(he.end + he.sepLen) : Buffer.alloc(0);

  const rawLines = head.split(/\r?\n/);
  const startLine = rawLines[0]!;
  const headers = new SipHeaders();
  let count = 0;
  let pending: string | null = null;
  let headerError: string | null = null;
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
  if (line.startsWith('SIP/')) {
    const m = /^SIP\/(\d+\.\d+) (\d{3}) ?(.*)$/.exec(line);
    if (!m) throw new SipParseError(`Malformed status line '${line.slice(0, 60)}'`);
    const status = Number(m[2]);
    if (status < 100 || status > 699) throw new SipParseError(`Status code ${status} out of range`);
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
  for (const name of ['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length']) {
    if (h.lines(name).length > 1) {
      const distinct = new Set(h.lines(name).map((v) => v.replace(/\s+/g, '')));
      if (distinct.size > 1) fail(`Conflicting ${name} headers`);
    }
  }
  try {
    for (const v of h.getAll('Via')) parseVia(v);
    const cseq = parseCSeq(h.get('CSeq')!);
    parseNameAddr(h.get('From')!);
    parseNameAddr(h.get('To')!);
    for (const name of ['Contact', 'Record-Route', 'Route']) {
      for (const v of h.getAll(name)) if (!(name === 'Contact' && v === '*')) parseNameAddr(v);
    }
    if (msg.type === 'request') {
      if (cseq.method !== msg.method) fail(`CSeq method ${cseq.method} does not match ${msg.method}`);
      parseUri(msg.uri);
    }
  } catch (e) {
    if (e instanceof SipSyntaxError) fail(capitalize(e.message));
    throw e;
  }
  if (!h.get('Call-ID')) fail('Empty Call-ID');
  const mf = h.get('Max-Forwards');
  if (mf !== undefined && !/^\d{1,3}$/.test(mf)) fail(`Invalid Max-Forwards '${mf.slice(0, 20)}'`);
  const cl = h.get('Content-Length');
  if (cl !== undefined) {
    if (!/^\d{1,9}$/.test(cl)) fail(`Invalid Content-Length '${cl.slice(0, 20)}'`);
    const n = Number(cl);
    if (n > msg.body.length) fail(`Content-Length ${n} exceeds the ${msg.body.length} body bytes received`);
    if (n < msg.body.length) msg.body = msg.body.subarray(0, n);
  } else if (stream && msg.body.length > 0) {
    fail('Missing Content-Length on a stream transport');
  }
  return msg;
}

/** Parse and validate in one step. */
export function parseAndValidate(buf: Buffer, stream = false, limits = DEFAULT_LIMITS): SipMessage {
  return validate(parseMessage(buf, limits), stream);
}

/** Whether a partial message can be answered: it is a request and has what §8.2.6 copies. */
export function canAnswer(msg: SipMessage | undefined): msg is SipRequest {
  if (!msg || msg.type !== 'request' || msg.method === 'ACK') return false;
  const h = msg.headers;
  return h.has('Via') && h.has('From') && h.has('To') && h.has('Call-ID') && h.has('CSeq');
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
