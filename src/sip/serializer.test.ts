import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { newRequest, newResponse, REASON, SipHeaders, type SipMessage } from './message.js';
import { parseAndValidate } from './parser.js';
import { serialize } from './serializer.js';
import { CORPUS, expectations } from '../../test/helpers/corpus.js';

const validFiles = Object.keys(expectations).filter((f) => expectations[f]!.valid);

/**
 * What must survive a round trip: start line, header fields in order (Content-Length aside) and body.
 * An empty reason phrase is written as the default one.
 */
function essence(m: SipMessage): unknown {
  const start = m.type === 'request' ? [m.method, m.uri] : [m.status, m.reason || REASON[m.status]];
  const headers = [...m.headers.entries()].filter(([n]) => n !== 'Content-Length');
  return { start, headers, body: m.body.toString('base64') };
}

const headers = (pairs: [string, string][]): SipHeaders => {
  const h = new SipHeaders();
  for (const [n, v] of pairs) h.add(n, v);
  return h;
};

const BASE: [string, string][] = [
  ['Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKser'],
  ['From', '<sip:caller@example.net>;tag=s1'],
  ['To', '<sip:agent@example.com>'],
  ['Call-ID', 'ser@192.0.2.1'],
  ['CSeq', '3 INVITE'],
];

describe('serialize', () => {
  it.each(validFiles)('round-trips %s', (file) => {
    const m = parseAndValidate(readFileSync(new URL(file, CORPUS)));
    const again = parseAndValidate(serialize(m));
    expect(essence(again)).toEqual(essence(m));
    expect(again.headers.get('Content-Length')).toBe(String(m.body.length));
  });

  it('writes Content-Length from the body, replacing a wrong or compact one', () => {
    const body = Buffer.from('v=0\r\nü\r\n');
    const m = newRequest('INVITE', 'sip:agent@example.com', headers([...BASE, ['l', '999'], ['Content-Type', 'application/sdp']]), body);
    const out = serialize(m);
    const text = out.toString('utf8');
    expect(text.match(/Content-Length/g)).toHaveLength(1);
    expect(text).toContain(`Content-Length: ${body.length}\r\n\r\n`);
    expect(out.subarray(out.length - body.length).equals(body)).toBe(true);
    expect(parseAndValidate(out, true).body.equals(body)).toBe(true);
  });

  it('writes Content-Length: 0 without a body and canonical header names', () => {
    const text = serialize(newRequest('BYE', 'sip:agent@example.com', headers([...BASE.slice(0, 4), ['cseq', '4 BYE'], ['call-id', 'x']]))).toString();
    expect(text.startsWith('BYE sip:agent@example.com SIP/2.0\r\n')).toBe(true);
    expect(text).toContain('CSeq: 4 BYE\r\n');
    expect(text.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it('fills in a default reason phrase for responses', () => {
    const text = serialize(newResponse(486, '', headers(BASE))).toString();
    expect(text.startsWith('SIP/2.0 486 Busy Here\r\n')).toBe(true);
    expect(serialize(newResponse(299, '', headers(BASE))).toString().startsWith('SIP/2.0 299 \r\n')).toBe(true);
  });

  it('never lets a line break in a value start a new header', () => {
    const m = newResponse(400, 'Bad\r\nX-Injected: 1', headers([...BASE, ['Subject', 'a\r\nX-Evil: 1'], ['Warning', '399 h "x"\r\n\r\nbody']]));
    const parsed = parseAndValidate(serialize(m));
    expect(parsed.headers.has('X-Injected')).toBe(false);
    expect(parsed.headers.has('X-Evil')).toBe(false);
    expect(parsed.headers.get('Subject')).toBe('a X-Evil: 1');
    expect(parsed.body.length).toBe(0);
  });
});
