import { describe, expect, it } from 'vitest';
import { isTrusted, TokenBucket, trustedList } from './admission.js';

describe('trusted sources', () => {
  it('matches IPv4, IPv6 and IPv4-mapped sources against CIDRs', () => {
    const l = trustedList(['10.0.0.0/8', '127.0.0.1/32', '2001:db8::/32']);
    expect(isTrusted(l, '10.1.2.3')).toBe(true);
    expect(isTrusted(l, '127.0.0.1')).toBe(true);
    expect(isTrusted(l, '127.0.0.2')).toBe(false);
    expect(isTrusted(l, '::ffff:10.9.9.9')).toBe(true);
    expect(isTrusted(l, '2001:db8::1')).toBe(true);
    expect(isTrusted(l, '2001:db9::1')).toBe(false);
  });
});

describe('TokenBucket', () => {
  it('allows a burst of one second then the sustained rate', () => {
    let t = 0;
    const b = new TokenBucket(10, () => t);
    let ok = 0;
    for (let i = 0; i < 20; i++) if (b.take()) ok++;
    expect(ok).toBe(10);
    t = 500;
    ok = 0;
    for (let i = 0; i < 20; i++) if (b.take()) ok++;
    expect(ok).toBe(5);
  });
});
