/** Request validation: every refusal is a 400 naming the field and what is wrong with it. */
import { LvCode } from '../wire.js';
import { SimError } from './records.js';

export type Fields = Record<string, unknown>;

const missing = (where: string, name: string): SimError => new SimError(400, LvCode.missingField, `missing ${where} '${name}'`);
const invalid = (name: string, why: string): SimError => new SimError(400, LvCode.invalidField, `invalid field '${name}': ${why}`);

export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SimError(400, LvCode.malformedBody, 'body is not valid JSON');
  }
}

export function object(body: unknown, required = true): Fields {
  if (body === undefined && !required) return {};
  if (body === undefined) throw new SimError(400, LvCode.malformedBody, 'a JSON object body is required');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SimError(400, LvCode.malformedBody, 'body must be a JSON object');
  return body as Fields;
}

export function str(o: Fields, name: string): string {
  const v = o[name];
  if (v === undefined || v === null || v === '') throw missing('field', name);
  if (typeof v !== 'string') throw invalid(name, 'must be a string');
  return v;
}

/** Ids are strings in the guide's examples; integers are accepted too. */
export function id(o: Fields, name: string): string {
  const v = o[name];
  if (v === undefined || v === null || v === '') throw missing('field', name);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string') throw invalid(name, 'must be a string or an integer');
  return v;
}

export function optStr(o: Fields, name: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') throw invalid(name, 'must be a string');
  return v;
}

/** true/false or the guide's "true"/"false". */
export function bool(o: Fields, name: string): boolean {
  const v = o[name];
  if (v === undefined || v === null) throw missing('field', name);
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw invalid(name, 'must be true or false (or "true"/"false")');
}

export function query(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === '') throw missing('query parameter', name);
  return v;
}

/** Epoch milliseconds as a number or a digit string. */
export function optEpochMs(o: Fields, name: string): number | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{1,16}$/.test(v)) return Number(v);
  throw invalid(name, 'must be epoch milliseconds (digits)');
}

/** A flat object of scalar values, as strings; `skip` names keys that are not fields. */
export function flatFields(o: Fields, skip: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (skip.includes(k)) continue;
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (v !== null) throw invalid(k, 'contact fields must be strings, numbers or booleans');
  }
  return out;
}
