import { describe, expect, it } from 'vitest';
import {
  formatNameAddr, formatUri, formatVia, isNameAddr, parseCSeq, parseNameAddr, parseParams, parseUri, parseVia,
  SipSyntaxError, tagOf, unescapeUri,
} from './grammar.js';

describe('parseUri', () => {
  it('parses user, password, host, port, params and headers', () => {
    const u = parseUri('sips:alice:secret@Example.COM:5061;transport=tcp;lr?Subject=hi&Priority=urgent');
    expect(u).toEqual({
      scheme: 'sips', user: 'alice', password: 'secret', host: 'Example.COM', port: 5061,
      params: { transport: 'tcp', lr: null }, headers: { Subject: 'hi', Priority: 'urgent' },
    });
  });

  it('handles IPv6 references with and without a port', () => {
    expect(parseUri('sip:[2001:db8::1]:5070').host).toBe('2001:db8::1');
    expect(parseUri('sip:[2001:db8::1]:5070').port).toBe(5070);
    expect(parseUri('sip:bob@[::ffff:192.0.2.1];maddr=[2001:db8::9]').params['maddr']).toBe('[2001:db8::9]');
    for (const bad of ['sip:[2001:db8::1', 'sip:[nothex]', 'sip:[2001:db8::1]x', 'sip:2001:db8::1']) {
      expect(() => parseUri(bad), bad).toThrow(SipSyntaxError);
    }
  });

  it('validates ports', () => {
    expect(parseUri('sip:h.example.com:05060').port).toBe(5060);
    for (const bad of ['sip:h:0', 'sip:h:65536', 'sip:h:', 'sip:h:50a']) expect(() => parseUri(bad), bad).toThrow(SipSyntaxError);
  });

  it("keeps ';', '?' and escapes in the user part", () => {
    const u = parseUri('sip:agent;par=a%40example.net@example.com;lr');
    expect([u.user, u.host, u.params]).toEqual(['agent;par=a%40example.net', 'example.com', { lr: null }]);
    expect(parseUri('sip:who?me,now@example.com').user).toBe('who?me,now');
    expect(unescapeUri(parseUri('sip:sips%3Aagent%40example.com@example.net').user!)).toBe('sips:agent@example.com');
  });

  it('rejects malformed SIP URIs', () => {
    for (const bad of ['agent@example.com', 'sip:', 'sip:@example.com', 'sip:a b@example.com', 'sip:a@exa mple.com',
      'sip:a@example.com;;lr', 'sip:a@example.com;x=', 'sip:%zz@example.com', 'sip:a@<example.com>', 'sip:a@h?=v']) {
      expect(() => parseUri(bad), bad).toThrow(SipSyntaxError);
    }
  });

  it('parses tel: and keeps other schemes opaque', () => {
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')).toEqual({
      scheme: 'tel', user: '+1-201-555-0123', host: '', params: { 'phone-context': 'example.com' }, headers: {},
    });
    expect(parseUri('soap.beep://192.0.2.1:3002')).toMatchObject({ scheme: 'soap.beep', host: '//192.0.2.1:3002' });
    expect(() => parseUri('tel:;x=1')).toThrow(SipSyntaxError);
  });

  it('formats back to an equivalent URI', () => {
    for (const s of ['sip:alice@example.com:5062;transport=tcp', 'sip:[2001:db8::1]:5060;lr', 'tel:+15550100', 'sips:h.example.com?Subject=x']) {
      expect(parseUri(formatUri(parseUri(s)))).toEqual(parseUri(s));
    }
  });
});

describe('parseParams', () => {
  it('allows LWS around ";" and "=", quoted values holding ";"', () => {
    expect(parseParams(' ; tag = 12ab ;lr; text="a;b \\"c\\""')).toEqual({ tag: '12ab', lr: null, text: '"a;b \\"c\\""' });
    expect(parseParams('')).toEqual({});
  });

  it('stores a parameter called __proto__ as a plain entry', () => {
    const p = parseParams(';__proto__=x;tag=1');
    expect(Object.keys(p)).toEqual(['__proto__', 'tag']);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
  });

  it('rejects empty parameters, names and values, and stray text', () => {
    for (const bad of [';;tag=1', ';tag=1;', ';=1', ';tag=', ';t ag=1', ';tag=a b', 'tag=1', ';x="open', ';x="a"b']) {
      expect(() => parseParams(bad), bad).toThrow(SipSyntaxError);
    }
  });
});

describe('parseNameAddr', () => {
  it('parses quoted display names with escapes and UTF-8', () => {
    expect(parseNameAddr('"Doe, \\"JD\\" Jane" <sip:jane@example.com>;tag=9')).toEqual({
      display: 'Doe, "JD" Jane', uri: 'sip:jane@example.com', params: { tag: '9' },
    });
    expect(parseNameAddr('"Zoë 山田" <sip:z@example.com>').display).toBe('Zoë 山田');
  });

  it('accepts token display names, with or without LWS before "<"', () => {
    expect(parseNameAddr('Jane Q. Doe <sip:jane@example.com>').display).toBe('Jane Q. Doe');
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=1').display).toBe('caller');
  });

  it('gives addr-spec parameters to the header, name-addr URI parameters to the URI', () => {
    expect(parseNameAddr('sip:+15550101@gw.example.net;unknownparam;expires=60')).toEqual({
      uri: 'sip:+15550101@gw.example.net', params: { unknownparam: null, expires: '60' },
    });
    expect(parseNameAddr('sip:agent@example.com ;  tag = 77')).toEqual({ uri: 'sip:agent@example.com', params: { tag: '77' } });
    expect(parseNameAddr('<sip:+15550101@gw.example.net;unknownparam>;expires=60')).toEqual({
      uri: 'sip:+15550101@gw.example.net;unknownparam', params: { expires: '60' },
    });
    expect(isNameAddr('"a<b" sip:x@example.com')).toBe(false);
    expect(isNameAddr('"a" <sip:x@example.com>')).toBe(true);
  });

  it('rejects what RFC 4475 calls malformed', () => {
    for (const bad of [
      '"Mr. Unterminated <sip:a@example.com>', // quotbal
      '"Doe" < sip:jane@example.org >', // badaspec
      'Doe, Jane <sip:jane@example.com>', // baddn
      'sip:a@example.com?Route=%3Csip:p.example.com%3E', // regbadct
      'sip:a@example.com;;tag=1', // badinv01
      '"a" junk <sip:a@example.com>',
      '<sip:a@example.com> junk',
      '<sip:a@example.com',
      '<>',
      '"only a display name"',
    ]) expect(() => parseNameAddr(bad), bad).toThrow(SipSyntaxError);
  });

  it('formats with quoting and finds tags', () => {
    const na = { display: 'Say "hi"', uri: 'sip:a@example.com', params: { tag: 'x1' } };
    expect(parseNameAddr(formatNameAddr(na))).toEqual(na);
    expect(tagOf('<sip:a@example.com>;tag=abc')).toBe('abc');
    expect(tagOf('sip:a@example.com')).toBeUndefined();
    expect(tagOf(undefined)).toBeUndefined();
  });
});

describe('parseVia', () => {
  it('allows LWS around "/" and ":" and before parameters', () => {
    expect(parseVia('SIP  /  2.0 / udp  host.example.com : 5070 ; branch = z9hG4bK1')).toEqual({
      transport: 'UDP', host: 'host.example.com', port: 5070, params: { branch: 'z9hG4bK1' },
    });
  });

  it('reads received, rport (with and without value), branch and IPv6 sent-by', () => {
    const v = parseVia('SIP/2.0/TCP [2001:db8::5]:5062;received=2001:db8::9;rport;branch=z9hG4bKabc');
    expect(v).toEqual({ transport: 'TCP', host: '2001:db8::5', port: 5062, params: { received: '2001:db8::9', rport: null, branch: 'z9hG4bKabc' } });
    expect(parseVia('SIP/2.0/UDP 192.0.2.1;rport=5999;received=192.0.2.2').params).toEqual({ rport: '5999', received: '192.0.2.2' });
  });

  it('accepts any transport token', () => {
    for (const t of ['UDP', 'TCP', 'TLS', 'SCTP', 'TLS-SCTP', 'WS', 'WSS', 'UNKNOWN']) expect(parseVia(`SIP/2.0/${t} h.example.com`).transport).toBe(t);
  });

  it('rejects malformed values', () => {
    for (const bad of ['SIP/2.0/UDP', 'SIP/2.0 UDP h', 'SIP/1.0/UDP h', 'SIP/2.0/UDP h junk', 'SIP/2.0/UDP h:0',
      'SIP/2.0/UDP h;;branch=1', 'SIP/2.0/UDP 2001:db8::1', ';']) {
      expect(() => parseVia(bad), bad).toThrow(SipSyntaxError);
    }
  });

  it('formats back', () => {
    const v = parseVia('SIP/2.0/UDP [2001:db8::5]:5062;branch=z9hG4bKx;rport');
    expect(parseVia(formatVia(v))).toEqual(v);
  });
});

describe('parseCSeq', () => {
  it('accepts 0 to 2**32-1, leading zeros and LWS', () => {
    expect(parseCSeq('4294967295 INVITE')).toEqual({ seq: 4294967295, method: 'INVITE' });
    expect(parseCSeq(' 0009   OPTIONS ')).toEqual({ seq: 9, method: 'OPTIONS' });
    expect(parseCSeq('0 NEW-Method.x')).toEqual({ seq: 0, method: 'NEW-Method.x' });
  });

  it('rejects overlarge numbers and malformed values', () => {
    for (const bad of ['4294967296 INVITE', '36893488147419103232 REGISTER', 'INVITE', '1', '-1 INVITE', '1 IN VITE', '1 INV<ITE']) {
      expect(() => parseCSeq(bad), bad).toThrow(SipSyntaxError);
    }
  });
});

describe('interop leniency', () => {
  it('accepts an unquoted UTF-8 display name but not one with separators', async () => {
    const { parseNameAddr } = await import('./grammar.js');
    expect(parseNameAddr('José Núñez <sip:j@example.com>;tag=1').display).toBe('José Núñez');
    expect(() => parseNameAddr('Bell, Alexander <sip:a@example.com>')).toThrow();
  });
});
