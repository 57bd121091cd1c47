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

export type Negotiation = { kind: 'none' } | { kind: 'reject'; minSE: number } | { kind: 'use'; timer: SessionTimer; requireTimer: boolean };

function supportsTimer(req: SipRequest): boolean {
  return [...req.headers.getAll('Supported'), ...req.headers.getAll('Require')].some((t) => t.toLowerCase() === 'timer');
}

export function negotiate(req: SipRequest, cfg: SessionTimerConfig): Negotiation {
  const se = req.headers.get('Session-Expires');
  if (se === undefined) return { kind: 'none' };
  const m = /^\s*(\d+)\s*(;.*)?$/.exec(se);
  if (!m) return { kind: 'none' };
  const interval = Number(m[1]);
  const minSE = Math.max(90, cfg.minSE);
  // §9: a Session-Expires below our Min-SE is answered 422 carrying our Min-SE.
  if (interval < minSE) return { kind: 'reject', minSE };
  const params = m[2] ? parseParams(m[2]) : {};
  const peerSupports = supportsTimer(req);
  let refresher: 'uac' | 'uas';
  if (params['refresher'] === 'uac' || params['refresher'] === 'uas') refresher = params['refresher'];
  // §9: with no preference we let a timer-capable UAC refresh; otherwise only we can.
  else refresher = peerSupports ? 'uac' : 'uas';
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
