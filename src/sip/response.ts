/** Building responses and identifiers (RFC 3261 §8.2.6, §19.3). */
import { randomBytes } from 'node:crypto';
import { newResponse, REASON, SipHeaders, type SipRequest, type SipResponse } from './message.js';
import { parseNameAddr } from './grammar.js';

/** RFC 3261 §8.1.1.7: branch IDs start with the magic cookie so peers can match transactions. */
export const MAGIC_COOKIE = 'z9hG4bK';

let counter = 0;
const prefix = randomBytes(4).toString('hex');

/** Globally unique random token; cheap (a per-process random prefix and a counter). */
export function uniqueToken(): string {
  counter = (counter + 1) >>> 0;
  return `${prefix}${counter.toString(36)}${Math.floor(Math.random() * 0x7fffffff).toString(36)}`;
}

export const newBranch = (): string => MAGIC_COOKIE + uniqueToken();
export const newTag = (): string => uniqueToken();

/** Reason phrases may come from input or config: keep them on one line and printable. */
export function safeReason(reason: string): string {
  return reason.replace(/[\r\n\x00-\x1f\x7f]+/g, ' ').slice(0, 200).trim();
}

/**
 * Response to `req` per RFC 3261 §8.2.6.2: Via (all, in order), From, Call-ID, CSeq copied; To copied
 * with `toTag` added when the request had none (never for 100, §8.2.6.2).
 */
export function makeResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  toTag?: string,
  extra?: Record<string, string | string[]>,
  body?: Buffer,
): SipResponse {
  const h = new SipHeaders();
  for (const v of req.headers.lines('Via')) h.add('Via', v);
  const from = req.headers.get('From');
  if (from !== undefined) h.add('From', from);
  const to = req.headers.get('To');
  if (to !== undefined) h.add('To', status > 100 && toTag ? withTag(to, toTag) : to);
  const callId = req.headers.get('Call-ID');
  if (callId !== undefined) h.add('Call-ID', callId);
  const cseq = req.headers.get('CSeq');
  if (cseq !== undefined) h.add('CSeq', cseq);
  // §8.2.6.1: a 100 echoes the request's Timestamp.
  const ts = req.headers.get('Timestamp');
  if (status === 100 && ts !== undefined) h.add('Timestamp', ts);
  for (const [name, val] of Object.entries(extra ?? {})) {
    for (const v of Array.isArray(val) ? val : [val]) h.add(name, v);
  }
  return newResponse(status, safeReason(reason ?? REASON[status] ?? 'Unknown'), h, body);
}

/** Add a tag to a From/To value unless it already has one. */
export function withTag(value: string, tag: string): string {
  try {
    if (parseNameAddr(value).params['tag'] !== undefined) return value;
  } catch {
    return value;
  }
  return `${value};tag=${tag}`;
}
