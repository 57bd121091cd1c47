/**
 * DTMF carried in SIP INFO bodies. `application/dtmf-relay` is the de-facto Cisco format
 * (`Signal=5\r\nDuration=160`); `application/dtmf` carries the bare digit.
 */
export interface DtmfDigit {
  digit: string;
  durationMs: number;
}

const VALID = /^[0-9*#A-D]$/;

/**
 * Answer an in-dialog INFO: a DTMF digit goes to `onDigit` (200); an empty INFO is a keep-alive
 * (200); another content type gets 415 and a bad digit 400, each naming the problem.
 */
export function answerDtmfInfo(contentType: string, body: Buffer, onDigit: (d: DtmfDigit) => void): { status: number; reason?: string } {
  if (body.length === 0) return { status: 200 };
  const d = parseDtmfInfo(contentType, body.toString('utf8'));
  if (d === null) return { status: 415, reason: 'Only application/dtmf-relay and application/dtmf INFO are supported' };
  if (d === 'invalid') return { status: 400, reason: 'Invalid DTMF signal in INFO body' };
  onDigit(d);
  return { status: 200 };
}

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
