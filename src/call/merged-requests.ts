/**
 * RFC 3261 §8.2.2.2: a request with the Call-ID and From tag of a call in progress, in a new
 * transaction, is a merged request (a forking loop) and gets 482. Another From tag with the same
 * Call-ID is another call. The live Call-IDs are counted so that an INVITE with a Call-ID no live
 * call has (nearly all of them) is not compared with every call: that scan cost ~5 % of the main
 * thread at 1600 calls up (bench:calls, issue 14).
 */
import { parseNameAddr } from '../sip/grammar.js';
import type { IncomingInvite } from '../sip/ua.js';

export class MergedRequests {
  private readonly live = new Map<string, number>();

  added(callId: string): void {
    this.live.set(callId, (this.live.get(callId) ?? 0) + 1);
  }

  removed(callId: string): void {
    const n = (this.live.get(callId) ?? 1) - 1;
    if (n > 0) this.live.set(callId, n);
    else this.live.delete(callId);
  }

  /** Whether a live call has this Call-ID and From tag. */
  isMerged(callId: string, fromTag: string, calls: Iterable<{ info: { callId: string }; fromTag?: string }>): boolean {
    if (!this.live.has(callId)) return false;
    for (const c of calls) if (c.info.callId === callId && c.fromTag === fromTag) return true;
    return false;
  }
}

/** The From tag of an INVITE ('' when it has none or the header does not parse). */
export function fromTagOf(inv: IncomingInvite): string {
  try {
    return parseNameAddr(inv.request.headers.get('From') ?? '').params['tag'] ?? '';
  } catch {
    return '';
  }
}
