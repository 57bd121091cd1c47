/**
 * Admission control before any routing: trusted sources (per profile), concurrency and rate
 * limits (per gateway). Rate limiting is a token bucket refilled continuously, so a burst up to
 * one second's worth is allowed and a sustained excess gets 503 + Retry-After (RFC 3261 §21.5.4).
 */
import { BlockList, isIPv6 } from 'node:net';

export function trustedList(cidrs: readonly string[]): BlockList {
  const bl = new BlockList();
  for (const c of cidrs) {
    const [addr, prefix] = c.split('/') as [string, string];
    bl.addSubnet(addr, Number(prefix), isIPv6(addr) ? 'ipv6' : 'ipv4');
  }
  return bl;
}

export function isTrusted(list: BlockList, address: string): boolean {
  // IPv4-mapped IPv6 sources (dual-stack sockets) are checked as the IPv4 address they carry.
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return list.check(v4[1]!, 'ipv4');
  return list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = ratePerSec;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.ratePerSec, this.tokens + ((t - this.last) / 1000) * this.ratePerSec);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
