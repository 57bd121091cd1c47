/**
 * jambonz `listen` (https://docs.jambonz.org/verbs/verbs/listen, "Bidirectional audio"): the
 * gateway plays jambonz's side, so a bot written for a jambonz listen verb works unchanged.
 * - Subprotocol `audio.jambonz.org`; the first message is one JSON text frame with the call's
 *   attributes, `sampleRate` and `mixType` ("mono"), and the listen verb's `metadata` merged in
 *   (here: the gateway's customParameters); then binary frames of L16 PCM at `sampleRate`.
 * - Caller DTMF (`passDtmf`): `{"event":"dtmf","dtmf":"2","duration":"1600"}`, the duration in
 *   RTP timestamp units (8 kHz).
 * - From the bot, streaming: binary L16 at bidirectionalAudio.sampleRate; text commands
 *   `disconnect`, `killAudio`, `mark` {name} (answered `{"type":"mark","data":{"name","event":
 *   "playout"|"cleared"}}`), `clearMarks`. Non-streaming: `playAudio` with base64 `raw` L16 at a
 *   `sampleRate` or a `wav`/`wave` file, played in order (at most 10 queued), each answered with
 *   `playDone` once played.
 * jambonz defines no error message: anything else is rejected (counted and logged), not answered.
 */
import { wavChunks } from '../../codec/wav.js';
import type { EngineFormat } from '../link.js';
import type { StreamMeta } from '../types.js';
import { customParameters } from '../wire.js';
import { MarkBook, type Dialect, type DialectAction, type WireOut } from './types.js';

export interface JambonzOptions {
  /** Caller audio to the bot (the verb's sampleRate): 8000 (jambonz's default) or 16000. */
  sampleRate: 8000 | 16000;
  /** The bot's audio (bidirectionalAudio.sampleRate); default: sampleRate. */
  replySampleRate?: 8000 | 16000;
}

const MAX_QUEUED_PLAYS = 10;
const MAX_MARKS = 100;
const MAX_MARK_NAME = 256;
const l16 = (rate: 8000 | 16000): EngineFormat => (rate === 8000 ? 'l16-8k' : 'l16-16k');

type Pending = { kind: 'mark'; name: string } | { kind: 'play'; id?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A WAV file's PCM16 mono samples and rate, or why it cannot be played. */
export function parseWav(data: Buffer): { pcm: Buffer; rate: number } | string {
  const wav = wavChunks(data);
  if (!wav || data.toString('latin1', 8, 12) !== 'WAVE') return 'not a RIFF/WAVE file';
  if (!wav.data) return 'no data chunk';
  const fmt = wav.fmt;
  if (!fmt || fmt.length < 16) return 'data chunk before fmt chunk';
  if (fmt.format !== 1 || fmt.bits !== 16 || fmt.channels !== 1) return `WAV must be 16-bit PCM mono (format ${fmt.format}, ${fmt.bits} bits, ${fmt.channels} channel(s))`;
  return { pcm: wav.data.subarray(0, wav.data.length & ~1), rate: fmt.rate };
}

export class JambonzDialect implements Dialect {
  readonly subprotocol = 'audio.jambonz.org';
  readonly maxFrameBytes = 1 << 20;
  readonly format: EngineFormat;
  readonly replyFormat: EngineFormat;
  private readonly marks = new MarkBook<Pending>(MAX_MARKS);
  private plays = 0;

  constructor(private readonly o: JambonzOptions) {
    this.format = l16(o.sampleRate);
    this.replyFormat = l16(o.replySampleRate ?? o.sampleRate);
  }

  opening(meta: StreamMeta, reconnect: boolean): WireOut[] {
    // jambonz's call attributes (its webhook's names), then the metadata merged over them.
    const call = {
      callSid: meta.callSid,
      callId: meta.sipCallId,
      direction: 'inbound',
      from: meta.caller,
      to: meta.dnis || meta.number,
      accountSid: meta.accountSid,
      callStatus: 'in-progress',
      sipStatus: 200,
    };
    return [JSON.stringify({ sampleRate: this.o.sampleRate, mixType: 'mono', ...call, ...customParameters(meta, reconnect) })];
  }

  audio(frame: Uint8Array): WireOut {
    return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  }

  dtmf(digit: string, durationMs: number): WireOut {
    return JSON.stringify({ event: 'dtmf', dtmf: digit, duration: String(Math.round(durationMs * 8)) });
  }

  markPlayed(name: string, cleared: boolean): WireOut | null {
    const p = this.marks.take(name);
    if (!p) return null;
    if (p.kind === 'mark') return JSON.stringify({ type: 'mark', data: { name: p.name, event: cleared ? 'cleared' : 'playout' } });
    this.plays--;
    if (cleared) return null;
    return JSON.stringify(p.id === undefined ? { type: 'playDone' } : { type: 'playDone', data: { id: p.id } });
  }

  playout(): null {
    return null;
  }

  closing(): null {
    return null;
  }

  receive(data: Buffer, isBinary: boolean): DialectAction[] {
    if (isBinary) {
      if (data.length === 0 || data.length % 2 !== 0) return [{ kind: 'rejected', reason: `binary audio frame of ${data.length} bytes (L16 needs a positive even length)` }];
      return [{ kind: 'audio', payload: data }];
    }
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      return [{ kind: 'rejected', reason: 'text frame is not JSON' }];
    }
    if (!isObject(msg) || typeof msg.type !== 'string') return [{ kind: 'rejected', reason: 'text frame is not a JSON object with a string "type"' }];
    switch (msg.type) {
      case 'disconnect':
        return [{ kind: 'control', control: { type: 'hangup' } }];
      case 'killAudio':
        return [{ kind: 'clear' }];
      case 'clearMarks':
        this.marks.forget((p) => p.kind === 'mark');
        return [];
      case 'mark': {
        const name = isObject(msg.data) ? msg.data.name : undefined;
        if (typeof name !== 'string' || name === '' || name.length > MAX_MARK_NAME) return [{ kind: 'rejected', reason: `mark: data.name must be a string of 1-${MAX_MARK_NAME} characters` }];
        const queued = this.marks.add({ kind: 'mark', name });
        return queued ? [{ kind: 'mark', name: queued }] : [{ kind: 'rejected', reason: `mark: more than ${MAX_MARKS} marks pending` }];
      }
      case 'playAudio':
        return this.playAudio(msg.data);
      default:
        return [{ kind: 'rejected', reason: `unknown message type ${JSON.stringify(msg.type.slice(0, 40))}` }];
    }
  }

  private playAudio(d: unknown): DialectAction[] {
    const reject = (why: string): DialectAction[] => [{ kind: 'rejected', reason: `playAudio: ${why}` }];
    if (!isObject(d)) return reject('data must be an object');
    if (typeof d.audioContent !== 'string' || d.audioContent === '') return reject('data.audioContent must be base64 audio');
    if (this.plays >= MAX_QUEUED_PLAYS) return reject(`more than ${MAX_QUEUED_PLAYS} playAudio queued`);
    const content = Buffer.from(d.audioContent, 'base64');
    let pcm: Buffer;
    let rate: number;
    if (d.audioContentType === 'wav' || d.audioContentType === 'wave') {
      const w = parseWav(content);
      if (typeof w === 'string') return reject(w);
      ({ pcm, rate } = w);
    } else if (d.audioContentType === 'raw') {
      rate = Number(d.sampleRate);
      pcm = content.subarray(0, content.length & ~1);
    } else return reject('data.audioContentType must be "raw", "wav" or "wave"');
    if (rate !== 8000 && rate !== 16000) return reject(`sample rate ${String(d.sampleRate ?? rate)} is not supported here (8000 or 16000)`);
    if (pcm.length === 0) return reject('no audio');
    const id = typeof d.id === 'string' || typeof d.id === 'number' ? String(d.id) : undefined;
    const name = this.marks.add(id === undefined ? { kind: 'play' } : { kind: 'play', id });
    if (!name) return reject(`more than ${MAX_MARKS} marks pending`);
    this.plays++;
    return [{ kind: 'audio', payload: pcm, format: l16(rate) }, { kind: 'mark', name }];
  }
}
