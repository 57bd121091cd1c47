#!/usr/bin/env node
/**
 * Generates the RFC 4475-style torture corpus: one raw message per file (CRLF line ends, exact
 * bytes) plus expectations.json. Each file mirrors the property exercised by the RFC 4475 case it
 * is named after; the messages themselves are written for this project (hosts, tags, values and
 * bodies are our own). Run `node test/corpus/rfc4475/generate.mjs` after editing and commit both
 * the script and its output.
 *
 * "valid" means parseAndValidate(bytes) (datagram semantics) succeeds; an invalid message must be
 * rejected with a SipParseError carrying "status". Application-level answers (416, 415, 420 ...)
 * are not parser failures: those cases are valid and the note says what the application decides.
 */
import { writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = dirname(fileURLToPath(import.meta.url));
const CRLF = '\r\n';
const BT = '`';

/** Build a message: header lines (a line starting with SP/HTAB is a folded continuation), then body.
 *  `{CL}` in a header is replaced by the body's byte length. */
function msg(lines, body = '') {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const head = lines.join(CRLF).replaceAll('{CL}', String(b.length)) + CRLF + CRLF;
  return Buffer.concat([Buffer.from(head, 'utf8'), b]);
}

const sdp = (host) =>
  ['v=0', `o=vagw 4711 1 IN IP4 ${host}`, 's=-', `c=IN IP4 ${host}`, 't=0 0', 'm=audio 40000 RTP/AVP 0 8', 'a=rtpmap:0 PCMU/8000', ''].join(CRLF);

/** Deterministic filler bytes (xorshift32) for the binary MIME part. */
function bytes(n, seed) {
  const out = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const cases = [];
const add = (file, data, exp) => cases.push({ file, data, exp });
const valid = (note) => ({ valid: true, note });
const invalid = (status, note) => ({ valid: false, status, note });

// ------------------------------------------------------------------ §3.1.1 valid messages

add('3.1.1.1-wsinv.sip', msg([
  'INVITE sip:queue.sales@gw.example.com;unknownparam SIP/2.0',
  'TO :',
  ' sip:queue.sales@gw.example.com ;   tag    = 77xq1p',
  String.raw`from   : "Twisted \"Caller\" \\" <sip:twisted@example.net>`,
  '  ;',
  '  tag = 5e5e0f0f',
  'MaX-fOrWaRdS: 0069',
  'Call-ID: wsinv.q8m2n4b6v1@192.0.2.40',
  'Content-Length   : {CL}',
  'cseq: 0012',
  '  INVITE',
  'Via  : SIP  /   2.0',
  ' /UDP',
  '    192.0.2.40;branch=z9hG4bKwsinv.top',
  's :',
  'NewFangledHeader:   a value that starts here',
  ' and goes on over a folded line',
  'UnknownHeaderWithUnusualValue: ;;,,;;,;',
  'Content-Type: application/sdp',
  'Route:',
  ' <sip:edge.example.com;lr;unknownwith=value;unknown-no-value>',
  'v:  SIP  / 2.0  / TCP     relay.example.org   ;',
  '  branch  =   z9hG4bKrel4y  ,',
  ' SIP  /    2.0   / UDP  192.168.77.1   ; branch=',
  ' z9hG4bK77x1',
  String.raw`m:"Quoted string \"\"" <sip:twisted@host9.example.net> ; newparam =`,
  '      newvalue ;',
  '  secondparam ; q = 0.25',
], sdp('192.0.2.40')), valid('whitespace everywhere LWS may go, folding inside values, odd case and spacing in header names, compact forms, empty Subject, leading zeros in Max-Forwards and CSeq, escaped quotes and backslash in a display name'));

add('3.1.1.2-intmeth.sip', msg([
  `!odd-Method0123456789_*+${BT}.%really'~ sip:1_odd.URI~(sure!)&isn't+it$/mad?,/;;*:&pw+has=1,weird!*pa$$wo~d_too.(no-really)@example.com SIP/2.0`,
  `Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+${BT}'~`,
  'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_odd.URI~(sure!)&isn\'t+it$/mad?,/;;*@example.com>',
  `From: token1~${BT} token2'+_ token3*%!.- <sip:mad@example.net>;fromParam''~+*_!.-%="ошибка не здесь";tag=_tok~1'+${BT}*%!-.`,
  `Call-ID: intmeth.w%ZK-!.*_+'@word${BT}~)(><:\\/"][?}{`,
  `CSeq: 139122385 !odd-Method0123456789_*+${BT}.%really'~`,
  'Max-Forwards: 255',
  `extensionHeader-!.%*+_${BT}'~: 大停電の夜`,
  'Content-Length: 0',
]), valid('every token character in method, header name, parameters and tags; unusual user and password characters in the Request-URI; escaped control bytes (BEL, NUL, DEL) in a quoted display name; UTF-8 in a quoted parameter and an extension header'));

add('3.1.1.3-esc01.sip', msg([
  'INVITE sip:sips%3Aagent%40example.com@example.net SIP/2.0',
  'To: sip:%61gent@example.com',
  'From: <sip:I%20am%20calling@example.net>;tag=9a8b7c',
  'Max-Forwards: 33',
  'Call-ID: esc01.2f3e4d5c6b',
  'CSeq: 14 INVITE',
  'Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKesc01x',
  'Contact: <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%32>',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.5')), valid('%-escapes in user parts, parameter names and values of URIs; escaped ":" and "@" in a user part'));

add('3.1.1.4-escnull.sip', msg([
  'REGISTER sip:example.com SIP/2.0',
  'To: sip:zero-%00-zero@example.com',
  'From: sip:zero-%00-zero@example.com;tag=4400aa',
  'Max-Forwards: 70',
  'Call-ID: escnull.8d7c6b5a4f3e2d1c',
  'CSeq: 99 REGISTER',
  'Via: SIP/2.0/UDP host7.example.com;branch=z9hG4bKnull0',
  'Contact: <sip:%00@host7.example.com>',
  'Contact: <sip:%00%00@host7.example.com>',
  'l:0',
]), valid('escaped NUL (%00) in URI user parts; compact l: without a space'));

add('3.1.1.5-esc02.sip', msg([
  'RE%47IST%45R sip:registrar.example.com SIP/2.0',
  'To: "%Z%45" <sip:res@example.com>',
  'From: "%Z%45" <sip:res@example.com>;tag=p3rc3nt',
  'Call-ID: esc02.aa01bb02cc03dd04',
  'Via: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK31%zz7',
  'CSeq: 777 RE%47IST%45R',
  'Max-Forwards: 70',
  'Contact: <sip:one@host1.example.com>',
  'C%6Fntact: <sip:two@host2.example.com>',
  'Contact: <sip:three@host3.example.com>',
  'l: 0',
]), valid('"%" that is not an escape: in a method name (an unknown method, not REGISTER), a quoted display name, a branch token and a header name (an unknown header, not Contact)'));

add('3.1.1.6-lwsdisp.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: caller<sip:caller@example.com>;tag=nl5',
  'Max-Forwards: 70',
  'Call-ID: lwsdisp.1a2b3c',
  'CSeq: 5 OPTIONS',
  'Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKlwsd1',
  'l: 0',
]), valid('no LWS between a token display name and "<"'));

{
  const vias = Array.from({ length: 40 }, (_, i) => `Via: SIP/2.0/TCP relay${i}.example.com:${5060 + i};branch=z9hG4bK${'b'.repeat(64)}${i}`);
  add('3.1.1.7-longreq.sip', msg([
    `INVITE sip:${'u'.repeat(300)}@example.com SIP/2.0`,
    `To: "${'Long Display Name '.repeat(30)}" <sip:${'u'.repeat(300)}@example.com>`,
    `From: sip:caller@example.net;tag=${'t'.repeat(800)}`,
    `Call-ID: longreq.${'c'.repeat(1000)}@example.net`,
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    ...vias,
    `Unknown-LongHeader: ${'field value, '.repeat(300)}end`,
    `Contact: <sip:${'x'.repeat(500)}@192.0.2.9>`,
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
  ], sdp('192.0.2.9')), valid('very long Request-URI, display name, tag, Call-ID, unknown header and branch values; 40 Via fields'));
}

add('3.1.1.8-dblreq.sip', Buffer.concat([
  msg([
    'REGISTER sip:example.com SIP/2.0',
    'To: sip:sam@example.com',
    'From: sip:sam@example.com;tag=dbl1',
    'Max-Forwards: 70',
    'Call-ID: dblreq.first@192.0.2.11',
    'CSeq: 1 REGISTER',
    'Via: SIP/2.0/UDP 192.0.2.11;branch=z9hG4bKdbl.first',
    'Contact: <sip:sam@192.0.2.11>',
    'l: 0',
  ]),
  msg([
    'INVITE sip:sam@example.com SIP/2.0',
    'To: sip:sam@example.com',
    'From: sip:eve@example.com;tag=dbl2',
    'Max-Forwards: 70',
    'Call-ID: dblreq.second@192.0.2.12',
    'CSeq: 1 INVITE',
    'Via: SIP/2.0/UDP 192.0.2.12;branch=z9hG4bKdbl.second',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
  ], sdp('192.0.2.12')),
]), valid('extra octets after Content-Length in a datagram (a whole second request) are discarded: the REGISTER is processed with an empty body'));

add('3.1.1.9-semiuri.sip', msg([
  'OPTIONS sip:agent;par=a%40example.net@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=semi9',
  'Max-Forwards: 70',
  'Call-ID: semiuri.0f1e2d3c',
  'CSeq: 9 OPTIONS',
  'Via: SIP/2.0/UDP 192.0.2.13;branch=z9hG4bKsemi',
  'l: 0',
]), valid('";" inside the user part of the Request-URI: the user is "agent;par=a%40example.net", not a URI parameter'));

add('3.1.1.10-transports.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: <sip:caller@example.net>;tag=tr10',
  'Max-Forwards: 70',
  'Call-ID: transports.5a6b7c8d',
  'CSeq: 10 OPTIONS',
  'Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKt1',
  'Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKt2',
  'Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bKt3',
  'Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKt4',
  'Via: SIP/2.0/TLS-SCTP t5.example.com;branch=z9hG4bKt5',
  'Via: SIP/2.0/WSS t6.example.com;branch=z9hG4bKt6',
  'Via: SIP/2.0/TCP t7.example.com;branch=z9hG4bKt7',
  'l: 0',
]), valid('known, unusual and unknown transport tokens in Via'));

{
  const boundary = 'vagw-boundary-7e3f';
  const binary = Buffer.concat([Buffer.from([0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0xff, 0xfe, 0x80]), bytes(120, 0x4475), Buffer.from('\r\n\r\n--not-the-boundary\r\n')]);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/sdp\r\n\r\n${sdp('192.0.2.14')}\r\n--${boundary}\r\n` +
      'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-Disposition: signal;handling=optional\r\n\r\n'),
    binary,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  add('3.1.1.11-mpart01.sip', msg([
    'INVITE sip:agent@example.com SIP/2.0',
    'To: sip:agent@example.com',
    'From: <sip:caller@example.net>;tag=mp11',
    'Max-Forwards: 70',
    'Call-ID: mpart01.9f8e7d6c',
    'CSeq: 11 INVITE',
    'Via: SIP/2.0/UDP 192.0.2.14;branch=z9hG4bKmpart',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed;boundary=${boundary}`,
    'Content-Length: {CL}',
  ], body), valid('multipart/mixed body with a binary part holding NUL, 0xFF and CRLFCRLF: the body is length-delimited, not line-based'));
}

add('3.1.1.12-unreason.sip', msg([
  'SIP/2.0 200 = 3 * 7 * 11 * 13; "ok" (mostly) — 素数は無い ∑ ¿fine?',
  'Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKunr',
  'Call-ID: unreason.1d2c3b4a',
  'CSeq: 12 INVITE',
  'From: <sip:caller@example.net>;tag=ur1',
  'To: <sip:agent@example.com>;tag=ur2',
  'Contact: <sip:agent@192.0.2.16>',
  'Content-Type: application/sdp',
  'l: {CL}',
], sdp('192.0.2.16')), valid('reason phrase with punctuation, quotes and UTF-8'));

add('3.1.1.13-noreason.sip', msg([
  'SIP/2.0 100 ',
  'Via: SIP/2.0/UDP 192.0.2.17;branch=z9hG4bKnoreason',
  'Call-ID: noreason.0a0b0c',
  'CSeq: 13 INVITE',
  'From: <sip:caller@example.net>;tag=nr1',
  'To: <sip:agent@example.com>',
  'Content-Length: 0',
]), valid('empty reason phrase (status code followed by a single SP)'));

// ------------------------------------------------------------------ §3.1.2 invalid messages

add('3.1.2.1-badinv01.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;;tag=b4d1nv',
  'Max-Forwards: 70',
  'Call-ID: badinv01.77aa88bb',
  'CSeq: 1 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.18;;,;,,',
  'Contact: <sip:caller@192.0.2.18>',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.18')), invalid(400, 'extraneous ";" and "," separators: an empty From parameter and Via values that are only separators'));

add('3.1.2.2-clerr.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'Max-Forwards: 70',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=cl3rr',
  'Call-ID: clerr.00ff00ff',
  'CSeq: 2 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.19;branch=z9hG4bKclerr',
  'Content-Type: application/sdp',
  'Content-Length: 9999',
], sdp('192.0.2.19')), invalid(400, 'Content-Length larger than the bytes in the datagram'));

add('3.1.2.3-ncl.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'Max-Forwards: 70',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=ncl3',
  'Call-ID: ncl.1234abcd',
  'CSeq: 3 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bKncl',
  'Content-Type: application/sdp',
  'Content-Length: -999',
], sdp('192.0.2.20')), invalid(400, 'negative Content-Length'));

add('3.1.2.4-scalar02.sip', msg([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKsc4l4r',
  'Max-Forwards: 300',
  'From: <sip:big@example.com>;tag=sc02',
  'To: <sip:big@example.com>',
  'Call-ID: scalar02.6e6e6e6e',
  'CSeq: 36893488147419103232 REGISTER',
  'Contact: <sip:big@host129.example.com>;expires=280297596632815',
  'Expires: 10000000000',
  'Content-Length: 0',
]), invalid(400, 'request scalar fields with overlarge values: CSeq number past 2**32-1 (and Max-Forwards past 255, huge expiry values)'));

add('3.1.2.5-scalarlg.sip', msg([
  'SIP/2.0 503 Service Unavailable',
  'Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKsc4l4rlg',
  'To: <sip:big@example.com>;tag=slg2',
  'From: <sip:big@example.com>;tag=slg1',
  'Call-ID: scalarlg.5d5d5d5d',
  'CSeq: 36893488147419103232 INVITE',
  'Retry-After: 18446744073709551616',
  'Warning: 1812 overture "In Progress"',
  'Content-Length: 0',
]), invalid(400, 'response scalar fields with overlarge values (CSeq number, Retry-After, 4-digit warn-code); a response is dropped, never answered'));

add('3.1.2.6-quotbal.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'To: "Mr. Agent Smith <sip:agent@example.com>',
  'From: "Caller" <sip:caller@example.net>;tag=qb6',
  'Max-Forwards: 70',
  'Call-ID: quotbal.abcabc12',
  'CSeq: 6 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.21;branch=z9hG4bKquotbal',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.21')), invalid(400, 'unterminated quoted string in a display name'));

add('3.1.2.7-ltgtruri.sip', msg([
  'INVITE <sip:agent@example.com> SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=ltgt7',
  'Max-Forwards: 70',
  'Call-ID: ltgtruri.9090aaaa',
  'CSeq: 7 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.22;branch=z9hG4bKltgt',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.22')), invalid(400, 'Request-URI enclosed in <>'));

add('3.1.2.8-lwsruri.sip', msg([
  'INVITE sip:agent@example.com; lr SIP/2.0',
  'To: sip:agent@example.com;tag=lws8a',
  'From: sip:caller@example.net;tag=lws8b',
  'Max-Forwards: 70',
  'Call-ID: lwsruri.0c0c0c0c',
  'CSeq: 8 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.23;branch=z9hG4bKlwsruri',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.23')), invalid(400, 'whitespace embedded in the Request-URI'));

add('3.1.2.9-lwsstart.sip', msg([
  'INVITE  sip:agent@example.com  SIP/2.0',
  'Max-Forwards: 70',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=lws9',
  'Call-ID: lwsstart.dd00ee11',
  'CSeq: 9 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.24;branch=z9hG4bKlwsstart',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.24')), invalid(400, 'more than one SP between Request-Line elements'));

add('3.1.2.10-trws.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0  ',
  'Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKtrws',
  'Max-Forwards: 70',
  'From: <sip:caller@example.net>;tag=trws10',
  'To: <sip:agent@example.com>',
  'Call-ID: trws.4f4f4f4f',
  'CSeq: 10 OPTIONS',
  'l: 0',
]), invalid(400, 'SP characters after the SIP-Version of the Request-Line'));

add('3.1.2.11-escruri.sip', msg([
  'INVITE sip:agent@example.com?Route=%3Csip:proxy.example.com%3E SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=esc11',
  'Max-Forwards: 70',
  'Call-ID: escruri.3c3c3c3c',
  'CSeq: 11 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.26;branch=z9hG4bKescruri',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.26')), invalid(400, 'escaped URI headers in the Request-URI (headers are not allowed there, RFC 3261 §19.1.1)'));

add('3.1.2.12-baddate.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=bd12',
  'Max-Forwards: 70',
  'Call-ID: baddate.7e7e7e7e',
  'CSeq: 12 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.27;branch=z9hG4bKbaddate',
  'Date: Sat, 02 Mar 2024 11:30:00 PST',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.27')), invalid(400, 'Date with a time zone other than GMT'));

add('3.1.2.13-regbadct.sip', msg([
  'REGISTER sip:example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:agent@example.com;tag=rbc13',
  'Max-Forwards: 70',
  'Call-ID: regbadct.2b2b2b2b',
  'CSeq: 13 REGISTER',
  'Via: SIP/2.0/UDP 192.0.2.28;branch=z9hG4bKregbadct',
  'Contact: sip:agent@example.com?Route=%3Csip:proxy.example.com%3E',
  'l: 0',
]), invalid(400, 'a URI with a "?" (URI headers) used as addr-spec, not enclosed in <>'));

add('3.1.2.14-badaspec.sip', msg([
  'OPTIONS sip:agent@example.org SIP/2.0',
  'Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKbadaspec',
  'Max-Forwards: 70',
  'From: sip:caller@example.org;tag=ba14',
  'To: "Doe, Jane" < sip:jane@example.org >',
  'Call-ID: badaspec.6a6a6a6a',
  'Accept: application/sdp',
  'CSeq: 14 OPTIONS',
  'l: 0',
]), invalid(400, 'LWS inside the <> around an addr-spec'));

add('3.1.2.15-baddn.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.29;branch=z9hG4bKbaddn',
  'Max-Forwards: 70',
  'From: Smith, John <sip:john@example.net>;tag=bdn15',
  'To: Doe, Jane <sip:jane@example.com>',
  'Call-ID: baddn.1f1f1f1f',
  'CSeq: 15 OPTIONS',
  'l: 0',
]), invalid(400, 'unquoted display names holding non-token characters (",")'));

add('3.1.2.16-badvers.sip', msg([
  'OPTIONS sip:agent@example.com SIP/7.0',
  'Via: SIP/2.0/UDP 192.0.2.30;branch=z9hG4bKbadvers',
  'Max-Forwards: 70',
  'From: <sip:caller@example.net>;tag=bv16',
  'To: <sip:agent@example.com>',
  'Call-ID: badvers.8c8c8c8c',
  'CSeq: 16 OPTIONS',
  'l: 0',
]), invalid(505, 'unknown protocol version in the Request-Line'));

add('3.1.2.17-mismatch01.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=mm17',
  'Max-Forwards: 70',
  'Call-ID: mismatch01.4e4e4e4e',
  'CSeq: 17 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.31;branch=z9hG4bKmismatch1',
  'l: 0',
]), invalid(400, 'Request-Line method differs from the CSeq method'));

add('3.1.2.18-mismatch02.sip', msg([
  'NEWMETHOD sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=mm18',
  'Max-Forwards: 70',
  'Call-ID: mismatch02.5f5f5f5f',
  'CSeq: 18 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.32;branch=z9hG4bKmismatch2',
  'Contact: <sip:caller@192.0.2.32>',
  'Content-Type: application/sdp',
  'l: {CL}',
], sdp('192.0.2.32')), invalid(501, 'unknown method whose CSeq names a different (known) method: 501 (preferred by the RFC over 400, the method being unknown)'));

add('3.1.2.19-bigcode.sip', msg([
  'SIP/2.0 4294967301 this code must not wrap around',
  'Via: SIP/2.0/UDP 192.0.2.33;branch=z9hG4bKbigcode',
  'From: <sip:caller@example.net>;tag=bc19',
  'To: <sip:agent@example.com>;tag=bc19b',
  'Call-ID: bigcode.0d0d0d0d',
  'CSeq: 19 INVITE',
  'Content-Length: 0',
]), invalid(400, 'status code longer than three digits (overflows 32 bits); a response is dropped, never answered'));

// ------------------------------------------------------------------ §3.2 transaction layer

add('3.2.1-badbranch.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=bb21',
  'Max-Forwards: 70',
  'Call-ID: badbranch.9a9a9a9a',
  'CSeq: 21 OPTIONS',
  'Via: SIP/2.0/UDP 192.0.2.34;branch=z9hG4bK',
  'l: 0',
]), invalid(400, 'branch is only the RFC 3261 magic cookie, with no transaction identifier; RFC 4475 allows 400 or an RFC 2543 fallback, we answer 400 (statelessly)'));

// ------------------------------------------------------------------ §3.3 application layer

add('3.3.1-insuf.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'CSeq: 31 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.35;branch=z9hG4bKinsuf',
  'Content-Type: application/sdp',
  'l: {CL}',
], sdp('192.0.2.35')), invalid(400, 'To, From, Call-ID and Max-Forwards missing; the partial message cannot be answered (no From/To/Call-ID to copy)'));

add('3.3.2-unkscm.sip', msg([
  'OPTIONS nobodyUsesThisScheme:quite-opaque-content SIP/2.0',
  'To: nobodyUsesThisScheme:quite-opaque-content',
  'From: sip:caller@example.net;tag=us32',
  'Max-Forwards: 70',
  'Call-ID: unkscm.2e2e2e2e',
  'CSeq: 32 OPTIONS',
  'Via: SIP/2.0/TCP 192.0.2.36;branch=z9hG4bKunkscm',
  'l: 0',
]), valid('Request-URI with an unknown scheme: syntactically fine; the application answers 416 Unsupported URI Scheme'));

add('3.3.3-novelsc.sip', msg([
  'OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0',
  'To: soap.beep://192.0.2.103:3002',
  'From: sip:caller@example.net;tag=ns33',
  'Max-Forwards: 70',
  'Call-ID: novelsc.3d3d3d3d',
  'CSeq: 33 OPTIONS',
  'Via: SIP/2.0/TCP 192.0.2.37;branch=z9hG4bKnovelsc',
  'l: 0',
]), valid('Request-URI with a known but atypical scheme (dots in the scheme name): the application answers 416'));

add('3.3.4-unksm2.sip', msg([
  'REGISTER sip:example.com SIP/2.0',
  'To: isbn:9780000000002',
  'From: <http://www.example.com>;tag=un34',
  'Max-Forwards: 70',
  'Call-ID: unksm2.4c4c4c4c',
  'CSeq: 34 REGISTER',
  'Via: SIP/2.0/TCP 192.0.2.38;branch=z9hG4bKunksm2',
  'Contact: <name:Some_Agent>',
  'l: 0',
]), valid('unknown URI schemes in To, From and Contact: syntactically fine; a registrar would refuse to bind them'));

add('3.3.5-bext01.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=be35',
  'Max-Forwards: 70',
  'Call-ID: bext01.5b5b5b5b',
  'CSeq: 35 OPTIONS',
  'Require: noSuchExtension, anotherUnknownOne',
  'Proxy-Require: noSuchProxyExtension',
  'Via: SIP/2.0/UDP 192.0.2.39;branch=z9hG4bKbext01',
  'l: 0',
]), valid('unknown option-tags in Require and Proxy-Require: the application answers 420 Bad Extension listing them in Unsupported'));

add('3.3.6-invut.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'Contact: <sip:caller@192.0.2.40>',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=iu36',
  'Max-Forwards: 70',
  'Call-ID: invut.6a6a6a6a',
  'CSeq: 36 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.40;branch=z9hG4bKinvut',
  'Content-Type: application/unknownformat',
  'Content-Length: {CL}',
], '<?xml version="1.0"?>\r\n<unknownFormat version="3">nothing here makes sense</unknownFormat>\r\n'), valid('body of an unknown Content-Type: the application answers 415 Unsupported Media Type with Accept'));

add('3.3.7-regaut01.sip', msg([
  'REGISTER sip:example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:agent@example.com;tag=ra37',
  'Max-Forwards: 70',
  'Call-ID: regaut01.7b7b7b7b',
  'CSeq: 37 REGISTER',
  'Via: SIP/2.0/UDP 192.0.2.41;branch=z9hG4bKregaut01',
  'Authorization: NobodyKnowsThisScheme opaque-data=here, more="quoted, with comma"',
  'l: 0',
]), valid('Authorization with an unknown scheme: syntactically fine (the value is not a list); the application challenges or answers 403'));

add('3.3.8-multi01.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.42;branch=z9hG4bKmulti01',
  'Max-Forwards: 70',
  'From: sip:caller@example.net;tag=m38, sip:other@example.net;tag=m38b',
  'To: sip:agent@example.com',
  'Call-ID: multi01.first@192.0.2.42',
  'Call-ID: multi01.second@192.0.2.42',
  'CSeq: 38 INVITE',
  'Contact: <sip:caller@192.0.2.42>',
  'Content-Type: application/sdp',
  'l: {CL}',
], sdp('192.0.2.42')), invalid(400, 'several values in fields that allow one: two From values on one line, two different Call-ID lines'));

add('3.3.9-mcl01.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.43;branch=z9hG4bKmcl01',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=mc39',
  'Max-Forwards: 70',
  'Call-ID: mcl01.9c9c9c9c',
  'CSeq: 39 OPTIONS',
  'Content-Length: 0',
  'Content-Length: 2',
  'l: 81',
  'Content-Type: text/plain',
], 'is this 0, 2 or 81 bytes of body?'), invalid(400, 'several different Content-Length values (long and compact forms)'));

add('3.3.10-bcast.sip', msg([
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKbcast',
  'Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bKbcast2',
  'From: <sip:caller@example.net>;tag=bc310',
  'To: <sip:agent@example.com>;tag=bc310b',
  'Call-ID: bcast.0e0e0e0e',
  'CSeq: 310 OPTIONS',
  'Content-Length: 0',
]), valid('200 OK whose top Via is the broadcast address: syntactically fine; it matches no client transaction and the transport layer drops it'));

add('3.3.11-zeromf.sip', msg([
  'OPTIONS sip:agent@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.44;branch=z9hG4bKzeromf',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=zm311',
  'Call-ID: zeromf.1a1a1a1a',
  'CSeq: 311 OPTIONS',
  'Max-Forwards: 0',
  'l: 0',
]), valid('Max-Forwards of zero on a request addressed to us: a UAS still answers it (only forwarding would give 483)'));

add('3.3.12-cparam01.sip', msg([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.45;branch=z9hG4bKcparam01',
  'Max-Forwards: 70',
  'From: sip:+15555550101@example.com;tag=cp312',
  'To: sip:+15555550101@example.com',
  'Call-ID: cparam01.2c2c2c2c',
  'CSeq: 312 REGISTER',
  'Contact: sip:+15555550101@gw1.example.net;unknownparam',
  'l: 0',
]), valid('Contact addr-spec followed by a parameter: the parameter belongs to the Contact header, not to the URI'));

add('3.3.13-cparam02.sip', msg([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.46;branch=z9hG4bKcparam02',
  'Max-Forwards: 70',
  'From: sip:+15555550102@example.com;tag=cp313',
  'To: sip:+15555550102@example.com',
  'Call-ID: cparam02.3d3d3d3d',
  'CSeq: 313 REGISTER',
  'Contact: <sip:+15555550102@gw1.example.net;unknownparam>',
  'l: 0',
]), valid('Contact name-addr whose URI carries the parameter (inside <>)'));

add('3.3.14-regescrt.sip', msg([
  'REGISTER sip:example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: <sip:agent@example.com>;tag=re314',
  'Max-Forwards: 70',
  'Call-ID: regescrt.4e4e4e4e',
  'CSeq: 314 REGISTER',
  'Via: SIP/2.0/UDP 192.0.2.47;branch=z9hG4bKregescrt',
  'Contact: <sip:agent@192.0.2.47?Route=%3Csip:proxy.example.com%3E>',
  'l: 0',
]), valid('Contact URI (in <>) with an escaped Route header: allowed in a Contact; a registrar stores it as is'));

add('3.3.15-sdp01.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=sd315',
  'Max-Forwards: 70',
  'Call-ID: sdp01.5f5f5f5f',
  'CSeq: 315 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.48;branch=z9hG4bKsdp01',
  'Accept: text/nobodyknowsthis',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.48')), valid('Accept offering only an unknown type: the application answers 406 Not Acceptable'));

// ------------------------------------------------------------------ §3.4 backward compatibility

add('3.4.1-inv2543.sip', msg([
  'INVITE sip:agent@example.com SIP/2.0',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net',
  'Call-ID: inv2543.6b6b6b6b@192.0.2.49',
  'CSeq: 1 INVITE',
  'Via: SIP/2.0/UDP 192.0.2.49',
  'Content-Type: application/sdp',
  'Content-Length: {CL}',
], sdp('192.0.2.49')), valid('RFC 2543 style: no branch in Via, no From tag, no Max-Forwards; accepted, transactions matched the RFC 2543 way'));

// ------------------------------------------------------------------ extra cases (not in RFC 4475)

add('x-zeropad.sip', msg([
  'OPTIONS sip:agent@example.com:05060 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.50:0005060;branch=z9hG4bKzeropad',
  'To: sip:agent@example.com',
  'From: sip:caller@example.net;tag=zp',
  'Call-ID: zeropad.7a7a7a7a',
  'CSeq: 0000000000042 OPTIONS',
  'Max-Forwards: 00070',
  'Content-Length: 0000',
]), valid('not an RFC 4475 case: leading zeros in every numeric field (ports, CSeq, Max-Forwards, Content-Length) are legal 1*DIGIT'));

// ------------------------------------------------------------------ write

for (const f of readdirSync(DIR)) if (f.endsWith('.sip')) unlinkSync(join(DIR, f));
const expectations = {};
for (const c of cases) {
  writeFileSync(join(DIR, c.file), c.data);
  expectations[c.file] = c.exp;
}
writeFileSync(join(DIR, 'expectations.json'), JSON.stringify(expectations, null, 2) + '\n');
const n = cases.filter((c) => c.exp.valid).length;
console.log(`wrote ${cases.length} messages (${n} valid, ${cases.length - n} invalid)`);
