/**
 * Session timers, RFC 4028, UAS side. Used only when the peer asks (Session-Expires in its request).
 * `negotiate` is pure: it reads the request and returns either a 422 or the values for the 2xx.
 */
import type { SipRequest } from './message.js';
import { parseParams } from './grammar.js';

export interface SessionTimerConfig {
  /** Smallest interval we accept (Min-SE, §5; never below 90 s). */
  minSE: number;
  /** Interval we use when the peer asks for timers but gives no preference. */
  defaultExpires: number;
}

/** Who refreshes, relative to the dialog-creating INVITE: 'uac' is the peer, 'uas' is us. */
export interface SessionTimer {
  interval: number;
  refresher: 'uac' | 'uas';
}

export type Negotiation =
  | { kind: 'none' }
  | { kind: 'reject'; minSE: number }
  /** Session-Expires does not follow RFC 4028 §4's grammar: the request gets 400 with `reason`. */
  | { kind: 'invalid'; reason: string }
  | { kind: 'use'; timer: SessionTimer; requireTimer: boolean };

/**
 * Longest interval we run a timer for. The peer may ask for any delta-seconds; §9 lets the UAS
 * lower it (never below Min-SE), and a timer past Node's 2^31 ms would fire at once.
 */
export const MAX_SESSION_INTERVAL = 86_400;

function supportsTimer(req: SipRequest): boolean {
  return [...req.headers.getAll('Supported'), ...req.headers.getAll('Require')].some((t) => t.toLowerCase() === 'timer');
}

export type SessionExpires = { interval: number; refresher?: 'uac' | 'uas' };

/**
 * Parse a Session-Expires value (RFC 4028 §4: delta-seconds *(SEMI se-params), se-params being
 * `refresher=uas|uac` or a generic-param). Never throws: the value comes off the wire, and a
 * malformed one is the peer's error to be told about (400), not ours.
 */
export function parseSessionExpires(value: string): SessionExpires | { error: string } {
  const m = /^\s*(\d{1,10})\s*(;.*)?$/s.exec(value);
  if (!m) return { error: `Invalid Session-Expires '${value.slice(0, 40)}'` };
  let params: Record<string, string | null>;
  try {
    params = m[2] ? parseParams(m[2]) : {};
  } catch (e) {
    return { error: `Invalid Session-Expires parameters: ${(e as Error).message}`.slice(0, 120) };
  }
  const r = params['refresher'];
  if (r !== undefined && r !== null && r.toLowerCase() !== 'uac' && r.toLowerCase() !== 'uas') {
    return { error: `Invalid Session-Expires refresher '${String(r).slice(0, 20)}' (uac or uas)` };
  }
  if (r === null) return { error: 'Session-Expires refresher without a value' };
  const out: SessionExpires = { interval: Number(m[1]) };
  if (r) out.refresher = r.toLowerCase() as 'uac' | 'uas';
  return out;
}

export function negotiate(req: SipRequest, cfg: SessionTimerConfig): Negotiation {
  const lines = req.headers.lines('Session-Expires');
  if (lines.length === 0) return { kind: 'none' };
  if (lines.length > 1) return { kind: 'invalid', reason: 'More than one Session-Expires header' };
  const se = parseSessionExpires(lines[0]!);
  if ('error' in se) return { kind: 'invalid', reason: se.error };
  const minSE = Math.max(90, cfg.minSE);
  // §9: a Session-Expires below our Min-SE is answered 422 carrying our Min-SE.
  if (se.interval < minSE) return { kind: 'reject', minSE };
  const interval = Math.min(se.interval, Math.max(minSE, MAX_SESSION_INTERVAL));
  const peerSupports = supportsTimer(req);
  // §9: with no preference we let a timer-capable UAC refresh; otherwise only we can.
  let refresher: 'uac' | 'uas' = se.refresher ?? (peerSupports ? 'uac' : 'uas');
  if (refresher === 'uac' && !peerSupports) refresher = 'uas';
  return { kind: 'use', timer: { interval, refresher }, requireTimer: refresher === 'uac' };
}

/** Header values for a 2xx that uses the timer (§9). */
export function responseHeaders(n: Extract<Negotiation, { kind: 'use' }>): Record<string, string> {
  const h: Record<string, string> = { 'Session-Expires': `${n.timer.interval};refresher=${n.timer.refresher}` };
  if (n.requireTimer) h['Require'] = 'timer';
  return h;
}

/** When the non-refresher gives up (§10): interval minus min(32 s, interval/3). */
export function expiryMs(t: SessionTimer): number {
  return (t.interval - Math.min(32, t.interval / 3)) * 1000;
}

/** When the refresher refreshes: half the interval (§7.2 recommendation). */
export function refreshMs(t: SessionTimer): number {
  return (t.interval / 2) * 1000;
}
