/**
 * The engine wire format: what the gateway sends first (`connected`, `start`), how an
 * EngineControl is spelled on the wire, and the strict parser for engine -> gateway messages.
 * Pure functions; EngineConnection does the I/O.
 */
import type { EngineControl, EngineErrorCode, EngineProtocol, StreamMeta } from './types.js';

export type JsonObject = Record<string, unknown>;

/** A message from the engine that passed validation, or why it did not. */
export type EngineInbound =
  | { kind: 'audio'; payload: Buffer }
  | { kind: 'mark'; name: string }
  | { kind: 'clear' }
  | { kind: 'control'; control: EngineControl }
  | { kind: 'error'; code: EngineErrorCode; message: string };

export const SAMPLE_RATE: Record<EngineProtocol, number> = { twilio: 8000, l16: 16000 };
const DIGITS_RE = /^[0-9*#A-D]{1,64}$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CONTROL_EVENTS = new Set(['hangup', 'transfer', 'dtmf', 'hold', 'unhold', 'updateContact']);

export function customParameters(meta: StreamMeta, reconnect: boolean): Record<string, string> {
  const { agentId, number, caller, dnis, sipCallId, profile } = meta;
  // from_number / to_number: the names frameworks read (Pipecat's parse_telephony_websocket):
  // the caller, and the number the caller dialled (DNIS, else the agent's number).
  const aliases = { from_number: caller, to_number: dnis || number };
  const params: Record<string, string> = { agentId, number, caller, dnis, sipCallId, profile, ...aliases, ...meta.vendor, ...meta.custom };
  if (reconnect) params.reconnect = 'true';
  return params;
}

/** The body of the `start` message (everything but event / sequenceNumber / streamSid). */
export function startBody(protocol: EngineProtocol, meta: StreamMeta, reconnect: boolean): JsonObject {
  const start = {
    accountSid: meta.accountSid,
    streamSid: meta.streamSid,
    callSid: meta.callSid,
    tracks: ['inbound'],
    mediaFormat: protocol === 'twilio'
      ? { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }
      : { encoding: 'audio/L16', sampleRate: 16000, channels: 1 },
    customParameters: customParameters(meta, reconnect),
  };
  if (protocol === 'twilio') return { start };
  return { protocol: 'l16', sampleRate: 16000, channels: 1, encoding: 'pcm_s16le', reconnect, start };
}

/** How an engine spells a control request (used by engines and the test engine). */
export function controlMessage(ev: EngineControl, streamSid?: string): JsonObject {
  const base: JsonObject = { event: ev.type, ...(streamSid ? { streamSid } : {}) };
  switch (ev.type) {
    case 'hangup': return { ...base, hangup: { termCode: ev.termCode, reason: ev.reason } };
    case 'transfer': return { ...base, transfer: { phonebook: ev.phonebook, contact: ev.contact, target: ev.target } };
    case 'dtmf': return { ...base, dtmf: { digits: ev.digits } };
    case 'updateContact': return { ...base, updateContact: { fields: ev.fields } };
    default: return base;
  }
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (code: EngineErrorCode, message: string): EngineInbound => ({ kind: 'error', code, message });
const invalid = (message: string): EngineInbound => fail('invalid-message', message);

/** Optional string fields of an optional object; returns the fields or an error message. */
function optionalStrings(msg: JsonObject, key: string, names: readonly string[]): Record<string, string> | string {
  const body = msg[key];
  if (body === undefined) return {};
  if (!isObject(body)) return `${key} must be an object`;
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = body[n];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v === '') return `${key}.${n} must be a non-empty string`;
    out[n] = v;
  }
  return out;
}

function parseControl(event: string, msg: JsonObject): EngineInbound {
  const control = (c: EngineControl): EngineInbound => ({ kind: 'control', control: c });
  switch (event) {
    case 'hangup': {
      const f = optionalStrings(msg, 'hangup', ['termCode', 'reason']);
      return typeof f === 'string' ? invalid(f) : control({ type: 'hangup', ...f });
    }
    case 'transfer': {
      if (!isObject(msg.transfer)) return invalid('transfer must be an object with phonebook, contact or target');
      const f = optionalStrings(msg, 'transfer', ['phonebook', 'contact', 'target']);
      if (typeof f === 'string') return invalid(f);
      if (Object.keys(f).length === 0) return invalid('transfer needs at least one of phonebook, contact, target');
      return control({ type: 'transfer', ...f });
    }
    case 'dtmf': {
      const d = msg.dtmf;
      if (!isObject(d)) return invalid('dtmf must be an object with digit or digits');
      const digits = d.digits ?? d.digit;
      if (typeof digits !== 'string') return invalid('dtmf.digits must be a string');
      if (d.digits === undefined && digits.length !== 1) return invalid('dtmf.digit must be one character');
      if (!DIGITS_RE.test(digits)) return invalid(`dtmf.digits ${JSON.stringify(digits)} must be 1-64 of 0-9 * # A-D`);
      return control({ type: 'dtmf', digits });
    }
    case 'updateContact': {
      const u = msg.updateContact;
      if (!isObject(u) || !isObject(u.fields)) return invalid('updateContact.fields must be an object');
      const entries = Object.entries(u.fields);
      if (entries.length === 0) return invalid('updateContact.fields is empty');
      const bad = entries.find(([, v]) => typeof v !== 'string');
      if (bad) return invalid(`updateContact.fields.${bad[0]} must be a string`);
      return control({ type: 'updateContact', fields: Object.fromEntries(entries) as Record<string, string> });
    }
    default:
      return control({ type: event === 'hold' ? 'hold' : 'unhold' });
  }
}

function parseText(text: string, protocol: EngineProtocol, streamSid: string): EngineInbound {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return fail('invalid-json', 'message is not valid JSON');
  }
  if (!isObject(msg)) return fail('invalid-json', 'message is not a JSON object');
  const event = msg.event;
  if (typeof event !== 'string' || event === '') return invalid('event is missing or not a string');
  const known = event === 'media' || event === 'mark' || event === 'clear' || CONTROL_EVENTS.has(event);
  if (!known) return fail('unknown-event', `unknown event ${JSON.stringify(event.slice(0, 40))}`);
  // Twilio requires streamSid on media/mark/clear; elsewhere it is optional but must match.
  const sid = msg.streamSid;
  const needsSid = protocol === 'twilio' && (event === 'media' || event === 'mark' || event === 'clear');
  if (sid === undefined && needsSid) return invalid(`${event}: streamSid is missing`);
  if (sid !== undefined && sid !== streamSid) {
    return fail('wrong-stream', `${event}: streamSid ${JSON.stringify(String(sid).slice(0, 40))} is not this stream (${streamSid})`);
  }
  if (event === 'media') {
    if (protocol === 'l16') return invalid('media events are not used by the l16 protocol: send audio as binary frames');
    const m = msg.media;
    if (!isObject(m)) return invalid('media must be an object');
    if (typeof m.payload !== 'string') return invalid('media.payload is missing or not a string');
    if (m.payload === '') return invalid('media.payload is empty');
    if (!BASE64_RE.test(m.payload)) return invalid('media.payload is not valid base64');
    return { kind: 'audio', payload: Buffer.from(m.payload, 'base64') };
  }
  if (event === 'mark') {
    const m = msg.mark;
    if (!isObject(m)) return invalid('mark must be an object');
    if (typeof m.name !== 'string' || m.name === '') return invalid('mark.name is missing or not a non-empty string');
    return { kind: 'mark', name: m.name };
  }
  if (event === 'clear') return { kind: 'clear' };
  return parseControl(event, msg);
}

/** Validates one WebSocket message from the engine. Never throws. */
export function parseEngineMessage(data: Buffer, isBinary: boolean, protocol: EngineProtocol, streamSid: string): EngineInbound {
  if (!isBinary) return parseText(data.toString('utf8'), protocol, streamSid);
  if (protocol === 'twilio') return invalid('binary frames are not used by the twilio protocol: send media events');
  if (data.length === 0) return invalid('binary audio frame is empty');
  if (data.length % 2 !== 0) return invalid(`binary audio frame has odd length ${data.length} (16-bit PCM needs an even number of bytes)`);
  return { kind: 'audio', payload: data };
}

const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');

/** Base64 (RFC 4648 §4, padded) of `src` written into `dst` at `off`; returns the end offset. */
export function base64Into(src: Uint8Array, dst: Uint8Array, off: number): number {
  const n = src.length;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    dst[off++] = B64[v >>> 18]!;
    dst[off++] = B64[(v >>> 12) & 63]!;
    dst[off++] = B64[(v >>> 6) & 63]!;
    dst[off++] = B64[v & 63]!;
  }
  if (i < n) {
    const v = (src[i]! << 16) | (i + 1 < n ? src[i + 1]! << 8 : 0);
    dst[off++] = B64[v >>> 18]!;
    dst[off++] = B64[(v >>> 12) & 63]!;
    dst[off++] = i + 1 < n ? B64[(v >>> 6) & 63]! : 0x3d;
    dst[off++] = 0x3d;
  }
  return off;
}

/** Number of decimal digits of a non-negative integer. */
function decimalLength(v: number): number {
  let d = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) d++;
  return d;
}

/** Decimal digits of a non-negative integer written into `dst` at `off`; returns the end offset. */
function decimalInto(v: number, dst: Uint8Array, off: number): number {
  const end = off + decimalLength(v);
  for (let p = end - 1; p >= off; p--) {
    dst[p] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return end;
}

/**
 * The Twilio `media` message for one audio frame, written straight into a Buffer (UTF-8 JSON,
 * sent as a text frame). Byte for byte what JSON.stringify gives for
 * `{event:'media', sequenceNumber, streamSid, media:{track:'inbound', chunk, timestamp, payload}}`
 * with the numbers as strings, without building the object, the string or the base64 string
 * for each of the 50 frames a second of every call.
 */
export class MediaFrameWriter {
  private readonly head = Buffer.from('{"event":"media","sequenceNumber":"', 'latin1');
  private readonly sid: Buffer;
  private readonly ts = Buffer.from('","timestamp":"', 'latin1');
  private readonly payload = Buffer.from('","payload":"', 'latin1');
  private readonly tail = Buffer.from('"}}', 'latin1');

  constructor(streamSid: string) {
    this.sid = Buffer.from(`","streamSid":${JSON.stringify(streamSid)},"media":{"track":"inbound","chunk":"`, 'utf8');
  }

  write(sequenceNumber: number, chunk: number, timestampMs: number, audio: Uint8Array): Buffer {
    const b64 = 4 * Math.ceil(audio.length / 3);
    const len = this.head.length + decimalLength(sequenceNumber) + this.sid.length + decimalLength(chunk) + this.ts.length +
      decimalLength(timestampMs) + this.payload.length + b64 + this.tail.length;
    const out = Buffer.allocUnsafe(len);
    let o = this.head.copy(out, 0);
    o = decimalInto(sequenceNumber, out, o);
    o += this.sid.copy(out, o);
    o = decimalInto(chunk, out, o);
    o += this.ts.copy(out, o);
    o = decimalInto(timestampMs, out, o);
    o += this.payload.copy(out, o);
    o = base64Into(audio, out, o);
    this.tail.copy(out, o);
    return out;
  }
}
