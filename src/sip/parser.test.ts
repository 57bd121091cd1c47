import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseVia } from './grammar.js';
import type { SipRequest, SipResponse } from './message.js';
import { DEFAULT_LIMITS, canAnswer, parseAndValidate, parseMessage, SipParseError } from './parser.js';
import { CORPUS, expectations, loadCorpus } from '../../test/helpers/corpus.js';

const load = loadCorpus;

/** Build a message from header lines with CRLF line ends (Content-Length is not added). */
const raw = (lines: string[], body = ''): Buffer => Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body);

const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtest1',
  'From: <sip:caller@example.net>;tag=f1',
  'To: <sip:agent@example.com>',
  'Call-ID: test-call@192.0.2.1',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
];
const options = (extra: string[] = [], body = ''): Buffer => raw(['OPTIONS sip:agent@example.com SIP/2.0', ...BASE, ...extra], body);

function rejection(buf: Buffer, stream = false): SipParseError {
  try {
    parseAndValidate(buf, stream);
  } catch (e) {
    expect(e).toBeInstanceOf(SipParseError);
    return e as SipParseError;
  }
  throw new Error('message was accepted');
}

describe('RFC 4475 corpus', () => {
  it('has an expectation for every message and a message for every expectation', () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.sip')).sort();
    expect(files).toEqual(Object.keys(expectations).sort());
    expect(files.length).toBeGreaterThanOrEqual(49);
  });

  for (const [file, exp] of Object.entries(expectations)) {
    it(`${file}: ${exp.valid ? 'accepted' : `rejected with ${exp.status}`}`, () => {
      const buf = load(file);
      if (exp.valid) expect(() => parseAndValidate(buf)).not.toThrow();
      else expect(rejection(buf).status).toBe(exp.status);
    });
  }

  it('wsinv: folded, spaced and compact fields come out clean', () => {
    const m = parseAndValidate(load('3.1.1.1-wsinv.sip')) as SipRequest;
    expect(m.headers.get('cseq')).toBe('0012 INVITE');
    expect(m.headers.get('Max-Forwards')).toBe('0069');
    expect(m.headers.get('Subject')).toBe('');
    expect(m.headers.getAll('Via').map((v) => parseVia(v).host)).toEqual(['192.0.2.40', 'relay.example.org', '192.168.77.1']);
    expect(parseVia(m.headers.getAll('Via')[2]!).params['branch']).toBe('z9hG4bK77x1');
    expect(m.headers.get('NewFangledHeader')).toBe('a value that starts here and goes on over a folded line');
    expect(m.body.length).toBe(Number(m.headers.get('Content-Length')));
  });

  it('dblreq: the second request in the datagram is discarded', () => {
    const m = parseAndValidate(load('3.1.1.8-dblreq.sip')) as SipRequest;
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
  });

  it('mpart01: the binary body is kept byte for byte', () => {
    const buf = load('3.1.1.11-mpart01.sip');
    const m = parseAndValidate(buf);
    expect(m.body.length).toBe(Number(m.headers.get('Content-Length')));
    expect(buf.subarray(buf.length - m.body.length).equals(m.body)).toBe(true);
    expect(m.body.includes(Buffer.from([0, 13, 10, 13, 10, 0xff]))).toBe(true);
  });

  it('unreason / noreason: reason phrases are kept as sent', () => {
    const r = parseAndValidate(load('3.1.1.12-unreason.sip')) as SipResponse;
    expect(r.status).toBe(200);
    expect(r.reason).toContain('素数は無い');
    const n = parseAndValidate(load('3.1.1.13-noreason.sip')) as SipResponse;
    expect([n.status, n.reason]).toEqual([100, '']);
  });

  it('badvers can be answered with 505; insuf too, with what it has (Via and CSeq)', () => {
    const bad = rejection(load('3.1.2.16-badvers.sip'));
    expect(canAnswer(bad.partial)).toBe(true);
    expect(canAnswer(rejection(load('3.3.1-insuf.sip')).partial)).toBe(true);
  });
});

describe('parseMessage / validate', () => {
  it('expands compact forms and treats names case-insensitively', () => {
    const m = parseAndValidate(raw([
      'OPTIONS sip:agent@example.com SIP/2.0',
      'v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1',
      'f: <sip:caller@example.net>;tag=f1',
      't: <sip:agent@example.com>',
      'i: compact@192.0.2.1',
      'CSEQ: 1 OPTIONS',
      'm: <sip:caller@192.0.2.1>',
      'k: timer, 100rel',
      's: hello',
      'c: text/plain',
      'l: 2',
    ], 'hi'));
    const h = m.headers;
    expect(h.get('Call-ID')).toBe('compact@192.0.2.1');
    expect(h.get('call-id')).toBe(h.get('I'));
    expect(h.get('CSeq')).toBe('1 OPTIONS');
    expect(h.getAll('Supported')).toEqual(['timer', '100rel']);
    expect([h.get('Subject'), h.get('Content-Type'), h.get('Contact')]).toEqual(['hello', 'text/plain', '<sip:caller@192.0.2.1>']);
    expect([...h.entries()].map(([n]) => n)).toContain('Content-Length');
    expect(m.body.toString()).toBe('hi');
  });

  it('unfolds continuation lines (SP or HTAB) into one value', () => {
    const m = parseAndValidate(options(['Subject: first', ' second', '\tthird']));
    expect(m.headers.get('Subject')).toBe('first second third');
  });

  it('rejects a continuation line before any header', () => {
    const buf = Buffer.from('OPTIONS sip:a@example.com SIP/2.0\r\n folded: x\r\n' + BASE.join('\r\n') + '\r\n\r\n');
    expect(rejection(buf).status).toBe(400);
  });

  it('splits list headers on commas outside quotes and <>', () => {
    const m = parseAndValidate(options([
      'Via: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK2, SIP/2.0/UDP [2001:db8::3]:5062;branch=z9hG4bK3',
      'Route: <sip:p1.example.com;lr>, "Proxy, Two" <sip:p2.example.com;lr>',
      'Contact: "Doe, Jane \\"JD\\"" <sip:jane,doe@192.0.2.9>;q=0.5, <sip:jane@192.0.2.10>',
    ]));
    expect(m.headers.getAll('Via')).toHaveLength(3);
    expect(parseVia(m.headers.getAll('Via')[2]!).host).toBe('2001:db8::3');
    expect(m.headers.getAll('Route')).toEqual(['<sip:p1.example.com;lr>', '"Proxy, Two" <sip:p2.example.com;lr>']);
    expect(m.headers.getAll('Contact')).toEqual(['"Doe, Jane \\"JD\\"" <sip:jane,doe@192.0.2.9>;q=0.5', '<sip:jane@192.0.2.10>']);
    expect(m.headers.lines('Via')).toHaveLength(2);
  });

  it('does not split non-list headers that contain commas', () => {
    const m = parseAndValidate(options(['Date: Sat, 13 Nov 2010 23:29:00 GMT', 'Authorization: Digest username="a", realm="b, c"']));
    expect(m.headers.getAll('Date')).toEqual(['Sat, 13 Nov 2010 23:29:00 GMT']);
    expect(m.headers.getAll('Authorization')).toHaveLength(1);
  });

  it('truncates a datagram body to Content-Length and rejects a short one', () => {
    expect(parseAndValidate(options(['Content-Length: 3'], 'abcdef')).body.toString()).toBe('abc');
    expect(rejection(options(['Content-Length: 7'], 'abcdef')).status).toBe(400);
  });

  it('requires Content-Length for a body on a stream, not on a datagram', () => {
    expect(parseAndValidate(options([], 'body')).body.toString()).toBe('body');
    expect(rejection(options([], 'body'), true).status).toBe(400);
  });

  it('rejects conflicting Content-Length values, tolerates an identical repeat', () => {
    expect(rejection(options(['Content-Length: 2', 'l: 3'], 'abc')).reason).toMatch(/Content-Length/);
    expect(parseAndValidate(options(['Content-Length: 3', 'Content-Length: 3'], 'abc')).body.length).toBe(3);
  });

  it('rejects a bad Content-Length, Max-Forwards or Date', () => {
    expect(rejection(options(['Content-Length: 1e2'])).status).toBe(400);
    expect(rejection(raw(['OPTIONS sip:a@example.com SIP/2.0', ...BASE.slice(0, 5), 'Max-Forwards: 256'])).status).toBe(400);
    expect(rejection(options(['Date: 13 Nov 2010 23:29:00 GMT'])).status).toBe(400);
  });

  it('answers 513 past the size limit', () => {
    const big = options([`X-Filler: ${'x'.repeat(DEFAULT_LIMITS.maxMessageBytes)}`]);
    const e = rejection(big);
    expect(e.status).toBe(513);
    expect(() => parseMessage(big, { maxMessageBytes: big.length, maxHeaders: 200 })).not.toThrow();
  });

  it('rejects more header fields than the limit', () => {
    const many = options(Array.from({ length: 20 }, (_, i) => `X-H${i}: ${i}`));
    expect(() => parseMessage(many, { maxMessageBytes: 65_535, maxHeaders: 10 })).toThrow(SipParseError);
  });

  it('ignores CRLFs before the start line', () => {
    const m = parseAndValidate(Buffer.concat([Buffer.from('\r\n\r\n\n'), options()])) as SipRequest;
    expect(m.method).toBe('OPTIONS');
  });

  it('tolerates bare LF line ends, and a body holding CRLFCRLF after them', () => {
    const body = 'a\r\n\r\nb';
    const lf = Buffer.from(['OPTIONS sip:agent@example.com SIP/2.0', ...BASE, `Content-Length: ${body.length}`].join('\n') + '\n\n' + body);
    const m = parseAndValidate(lf);
    expect(m.headers.get('CSeq')).toBe('1 OPTIONS');
    expect(m.body.toString()).toBe(body);
  });

  it('keeps a body starting with LF after CRLF headers', () => {
    expect(parseAndValidate(options(['Content-Length: 3'], '\n\nx')).body.toString()).toBe('\n\nx');
  });

  it('rejects a message without the empty line after the headers', () => {
    const cut = Buffer.from(['OPTIONS sip:agent@example.com SIP/2.0', ...BASE].join('\r\n') + '\r\n');
    const e = rejection(cut);
    expect(e.status).toBe(400);
    expect(canAnswer(e.partial)).toBe(true);
  });

  it('keeps UTF-8 display names and values intact', () => {
    const m = parseAndValidate(raw([
      'OPTIONS sip:agent@example.com SIP/2.0',
      ...BASE.filter((l) => !l.startsWith('From')),
      'From: "Zoë Ångström 山田" <sip:zoe@example.net>;tag=u8',
    ]));
    expect(m.headers.get('From')).toBe('"Zoë Ångström 山田" <sip:zoe@example.net>;tag=u8');
  });

  it('rejects Request-URI headers but accepts "?" in the user part', () => {
    expect(rejection(raw(['OPTIONS sip:agent@example.com?Subject=x SIP/2.0', ...BASE])).reason).toMatch(/headers/);
    expect(() => parseAndValidate(raw(['OPTIONS sip:who?me@example.com SIP/2.0', ...BASE]))).not.toThrow();
  });

  it('rejects Route values that are not name-addr and misplaced Contact *', () => {
    expect(rejection(options(['Route: sip:p1.example.com;lr'])).status).toBe(400);
    expect(rejection(options(['Contact: *, <sip:a@example.com>'])).status).toBe(400);
  });

  it('rejects a response with another SIP version or a bad status code', () => {
    const resp = (line: string): Buffer => raw([line, ...BASE]);
    expect(rejection(resp('SIP/3.0 200 OK')).status).toBe(505);
    expect(rejection(resp('SIP/2.0 099 Low')).status).toBe(400);
    expect(rejection(resp('SIP/2.0 2000 OK')).status).toBe(400);
    expect(canAnswer(rejection(resp('SIP/2.0 2000 OK')).partial)).toBe(false);
  });

  it('parses responses', () => {
    const r = parseAndValidate(raw(['SIP/2.0 180 Ringing', ...BASE.slice(0, 2), 'To: <sip:agent@example.com>;tag=t9', ...BASE.slice(3, 5), 'Content-Length: 0'])) as SipResponse;
    expect([r.type, r.status, r.reason]).toEqual(['response', 180, 'Ringing']);
    expect(r.headers.get('To')).toContain('tag=t9');
  });

  describe('partial messages for a 400 (RFC 3261 §8.2.6)', () => {
    it('carries what was parsed when validation fails', () => {
      const e = rejection(raw(['INVITE sip:agent@example.com SIP/2.0', ...BASE]));
      expect(e.reason).toMatch(/CSeq method/);
      expect(canAnswer(e.partial)).toBe(true);
      expect(e.partial?.headers.get('Call-ID')).toBe('test-call@192.0.2.1');
    });

    it('carries the request when a header line is malformed', () => {
      const e = rejection(options(['Broken header line']));
      expect(canAnswer(e.partial)).toBe(true);
    });

    it('never answers an ACK or a request missing what a response copies', () => {
      expect(canAnswer(rejection(raw(['ACK sip:agent@example.com SIP/2.0', ...BASE])).partial)).toBe(false);
      expect(canAnswer(rejection(raw(['OPTIONS sip:agent@example.com SIP/2.0', ...BASE.slice(1)])).partial)).toBe(false);
      expect(canAnswer(rejection(Buffer.from('GARBAGE\r\n\r\n')).partial)).toBe(false);
    });
  });
});
