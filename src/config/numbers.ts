import type { NumberNormalization } from './types.js';

// Shared by config validation (agent numbers -> routing keys) and by the SIP
// router (Request-URI user part -> routing key): both sides must agree exactly,
// otherwise an agent that validates fine would never receive a call.

/** Characters people use to make numbers readable; never meaningful for routing. */
const SEPARATORS = /[-.() ]/g;

/**
 * Turn a dialled number / SIP user part into a routing key.
 *
 * - Everything from the first ';' is dropped for every rule (tel-URI style
 *   parameters such as `;npdi` or `;phone-context=...` are not part of the number).
 * - 'exact': the rest unchanged (null if empty).
 * - 'digits': separators `- . ( )` and spaces and one leading '+' removed; null
 *   unless only digits remain.
 * - 'nanp': as 'digits', then 10 digits get a leading '1'; anything else is kept
 *   as-is, so international numbers still route (by their full digit string).
 */
export function normalizeNumber(raw: string, rule: NumberNormalization): string | null {
  const semi = raw.indexOf(';');
  const base = semi >= 0 ? raw.slice(0, semi) : raw;
  if (rule === 'exact') return base.length > 0 ? base : null;
  const digits = base.replace(SEPARATORS, '').replace(/^\+/, '');
  if (!/^[0-9]+$/.test(digits)) return null;
  if (rule === 'nanp' && digits.length === 10) return `1${digits}`;
  return digits;
}
