/**
 * DTMF carried in SIP INFO bodies. `application/dtmf-relay` is the de-facto Cisco format
 * (`Signal=5\r\nDuration=160`); `application/dtmf` carries the bare digit.
 */
export interface DtmfDigit {
  digit: string;
  durationMs: number;
}

const VALID = /^[0-9*#A-D]$/;

/** Parse an INFO body; null when the content type is not DTMF, 'invalid' when the body is bad. */
export function parseDtmfInfo(contentType: string, body: string): DtmfDigit | 'invalid' | null {
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/dtmf') {
    const d = body.trim().toUpperCase();
    return VALID.test(d) ? { digit: d, durationMs: 160 } : 'invalid';
  }
  if (ct !== 'application/dtmf-relay') return null;
  const fields = new Map<string, string>();
  for (const line of body.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  let digit = (fields.get('signal') ?? '').toUpperCase();
  // Some senders use the RFC 4733 event codes 10/11 for * and #.
  if (digit === '10') digit = '*';
  if (digit === '11') digit = '#';
  if (!VALID.test(digit)) return 'invalid';
  const dur = Number(fields.get('duration') ?? '160');
  return { digit, durationMs: Number.isFinite(dur) && dur > 0 ? dur : 160 };
}
