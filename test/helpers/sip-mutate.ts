/**
 * Mutations for `fuzz:sip`: seeded and deterministic, so a finding is reproduced by its seed and
 * index. Byte-level operators (bit flips, insertions, deletions, truncation, duplicated slices,
 * CRLF games, non-UTF-8) and header-aware ones (a header's value replaced by a hostile value,
 * duplicated or huge headers, a wrong Content-Length), over seeds that reach every request path:
 * the RFC 4475 corpora and the requests a carrier sends (INVITE with SDP and session timers,
 * re-INVITE, BYE, CANCEL, INFO, OPTIONS, REGISTER).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** mulberry32: small seeded PRNG. */
export function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n) | 0;
  };
}

const SDP = ['v=0', 'o=fuzz 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');

/** A carrier-shaped request to `number` (the Via/From/To the gateway will answer to). */
export function carrierRequest(method: string, number: string, host: string, port: number, i: number, extra: string[] = [], body = ''): Buffer {
  const lines = [
    `${method} sip:${number}@${host}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:${port};branch=z9hG4bKfz${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:caller@${host}>;tag=fz${i}`,
    `To: <sip:${number}@${host}>${method === 'INVITE' || method === 'OPTIONS' || method === 'REGISTER' ? '' : ';tag=gw' + i}`,
    `Call-ID: fuzz-${i}@${host}`,
    `CSeq: ${1 + (i % 7)} ${method}`,
    `Contact: <sip:caller@${host}:${port}>`,
    ...extra,
  ];
  if (body) lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return Buffer.from(lines.join('\r\n'));
}

export function carrierSeeds(number: string): Buffer[] {
  const h = '127.0.0.1';
  return [
    carrierRequest('INVITE', number, h, 5060, 1, ['Supported: timer, replaces', 'Session-Expires: 1800;refresher=uac', 'Min-SE: 90', 'Record-Route: <sip:10.0.0.1;lr>', 'X-transaction-id: 123456', 'Session-ID: abc'], SDP),
    carrierRequest('INVITE', number, h, 5060, 2, ['Require: timer', 'Session-Expires: 90', 'Accept: application/sdp', 'Allow: INVITE, ACK, BYE'], SDP),
    carrierRequest('INVITE', number, h, 5060, 3, ['Session-Expires: 1800;refresher=uas'], SDP.replace('a=sendrecv', 'a=sendonly')),
    carrierRequest('BYE', number, h, 5060, 4, ['Reason: Q.850;cause=16']),
    carrierRequest('CANCEL', number, h, 5060, 5),
    carrierRequest('INFO', number, h, 5060, 6, ['Content-Type: application/dtmf-relay'], ''),
    carrierRequest('OPTIONS', number, h, 5060, 7, ['Accept: application/sdp']),
    carrierRequest('REGISTER', number, h, 5060, 8, ['Expires: 60', 'Authorization: Digest username="a", realm="r", nonce="n", uri="sip:x", response="00"']),
    carrierRequest('UPDATE', number, h, 5060, 9, ['Session-Expires: 1800;refresher=uac'], SDP),
    carrierRequest('PRACK', number, h, 5060, 10, ['RAck: 1 1 INVITE']),
    Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ${h}:5060;branch=z9hG4bKresp\r\nFrom: <sip:a@${h}>;tag=1\r\nTo: <sip:b@${h}>;tag=2\r\nCall-ID: resp@${h}\r\nCSeq: 1 INVITE\r\nSession-Expires: 1800;refresher=uac\r\nContent-Length: 0\r\n\r\n`),
  ];
}

/** Every .sip file of the RFC 4475 corpora under test/corpus. */
export function corpusSeeds(root: string): Buffer[] {
  const out: Buffer[] = [];
  for (const dir of ['rfc4475', 'rfc4475-ietf']) {
    const d = path.join(root, 'test', 'corpus', dir);
    let names: string[] = [];
    try {
      names = readdirSync(d).filter((f) => f.endsWith('.sip')).sort();
    } catch {
      continue;
    }
    for (const f of names) out.push(readFileSync(path.join(d, f)));
  }
  return out;
}

/** Values that broke or could break header grammars: params, lists, numbers, quotes, escapes. */
const HOSTILE = [
  '1800;refresher=a,b', '1800;refresher', ';;,,;;', ',', ';', '"', '"\\', '<', '<sip:', '>', '<<>>', '%', '%zz', '%00',
  '99999999999999999999', '-1', '4294967296', '0', '1e309', 'NaN', '', ' ', '\t', 'sip:', 'sips:@', 'tel:', '*',
  'SIP/2.0/UDP', 'SIP/2.0/UDP ;branch=', 'SIP/2.0/UDP 1.2.3.4;received=;rport=x', 'SIP/3.0/XYZ host', '[::1', '[', ']:5060',
  'a'.repeat(5000), '\u00ff\u00fe', 'timer, 100rel, nothingSupportsThis', 'application/sdp;q=0', 'Digest ' + 'x=,'.repeat(200),
  '<sip:a@b>;tag=1;tag=2', '"\\"" <sip:a@b', 'INVITE', '1 INVITE x', '2 BYE', 'sip:a@b?x=y', '\u0000', 'Q.850;cause=',
];
const HEADERS = [
  'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Session-Expires', 'Min-SE',
  'Require', 'Supported', 'Accept', 'Record-Route', 'Route', 'Expires', 'Authorization', 'Reason', 'RAck', 'RSeq', 'Date', 'Event',
  'X-transaction-id', 'Session-ID', 'Allow', 'Timestamp', 'Refer-To', 'Replaces', 'l', 'i', 'v', 'f', 't', 'm', 'x', 'k', 'c',
];
const SPECIAL = [...Buffer.from('\r\n:<>";,\\ \t%@?=/[]\x00\xff')];

function splitHead(b: Buffer): { head: string[]; body: Buffer } {
  const s = b.toString('latin1');
  const i = s.indexOf('\r\n\r\n');
  if (i < 0) return { head: s.split('\r\n'), body: Buffer.alloc(0) };
  return { head: s.slice(0, i).split('\r\n'), body: b.subarray(i + 4) };
}

function join(head: string[], body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}

function headerOp(src: Buffer, rnd: (n: number) => number): Buffer {
  const { head, body } = splitHead(src);
  if (head.length < 2) return src;
  const at = 1 + rnd(head.length - 1);
  const line = head[at]!;
  const colon = line.indexOf(':');
  switch (rnd(7)) {
    case 0: // hostile value in an existing header
      if (colon > 0) head[at] = `${line.slice(0, colon)}: ${HOSTILE[rnd(HOSTILE.length)]}`;
      break;
    case 1: // a hostile value appended to an existing one (parameters, list elements)
      head[at] = `${line}${[';', ',', ' ', ''][rnd(4)]}${HOSTILE[rnd(HOSTILE.length)]}`;
      break;
    case 2: // a new (or repeated) header with a hostile value
      head.splice(at, 0, `${HEADERS[rnd(HEADERS.length)]}: ${HOSTILE[rnd(HOSTILE.length)]}`);
      break;
    case 3: // duplicate a header, many times
      for (let k = 1 + rnd(300); k > 0; k--) head.splice(at, 0, line);
      break;
    case 4: // wrong Content-Length
      head.push(`Content-Length: ${[0, 1, body.length + 1, body.length - 1, 65_536, 2 ** 32][rnd(6)]}`);
      break;
    case 5: // fold a header (continuation line) or break one
      head.splice(at + 1, 0, [' folded', '\t', ' ', '\r', '\n', '   ;x=y'][rnd(6)]!);
      break;
    default: // drop a header
      head.splice(at, 1);
  }
  return join(head, body);
}

function byteOp(b: Buffer, rnd: (n: number) => number): Buffer {
  const at = rnd(b.length + 1);
  switch (rnd(7)) {
    case 0: // flip bits of one byte
      if (b.length) b[Math.min(at, b.length - 1)]! ^= 1 << rnd(8);
      return b;
    case 1: // truncate
      return b.subarray(0, at);
    case 2: // insert a syntax-significant byte
      return Buffer.concat([b.subarray(0, at), Buffer.from([SPECIAL[rnd(SPECIAL.length)]!]), b.subarray(at)]);
    case 3: // delete a short run
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rnd(8))]);
    case 4: // CRLF games: bare CR/LF, doubled, leading, trailing
      return Buffer.concat([b.subarray(0, at), Buffer.from(['\r', '\n', '\r\n\r\n', '\n\n', '\r\r'][rnd(5)]!), b.subarray(at)]);
    case 5: // non-UTF-8 bytes
      return Buffer.concat([b.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80].slice(0, 1 + rnd(5))), b.subarray(at)]);
    default: // duplicate a slice
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + rnd(60)), b.subarray(at)]);
  }
}

/** One mutated message from a seed: 1-4 operators, header-aware and byte-level mixed. */
export function mutate(seed: Buffer, rnd: (n: number) => number): Buffer {
  let b: Buffer = Buffer.from(seed);
  for (let k = 1 + rnd(4); k > 0; k--) b = rnd(2) === 0 ? headerOp(b, rnd) : byteOp(b, rnd);
  return b;
}
