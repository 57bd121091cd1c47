/**
 * Asterisk `chan_websocket` (docs.asterisk.org, Configuration/Channel-Drivers/WebSocket): the
 * gateway plays the Asterisk channel that dialled the app (an outgoing connection), so an app
 * written for `Dial(WebSocket/...)` or ARI externalMedia works unchanged.
 * - Caller media: binary frames of raw audio in the channel's format (ulaw 160 bytes, slin 320,
 *   slin16 640 per 20 ms), no headers.
 * - Control: text frames, JSON (`{"command": ...}` / `{"event": ...}`, Asterisk 20.18, 22.8,
 *   23.2 and later) or the deprecated plain-text lines; one format per call, case-sensitive.
 *   Events: MEDIA_START (with channel_variables = customParameters in JSON), DTMF_END, MEDIA_XOFF /
 *   MEDIA_XON (queue at 90 % / under 80 % of its bound, as Asterisk's 900/800 of 1000),
 *   STATUS, MEDIA_BUFFERING_COMPLETED, MEDIA_MARK_PROCESSED, QUEUE_DRAINED.
 *   Commands: ANSWER (the call is answered already), HANGUP, START/STOP_MEDIA_BUFFERING,
 *   FLUSH_MEDIA, PAUSE_MEDIA, CONTINUE_MEDIA, MARK_MEDIA, GET_STATUS, REPORT_QUEUE_DRAINED,
 *   SET_MEDIA_DIRECTION.
 * - Media from the app is cut into frames of optimal_frame_size; outside bulk buffering what does
 *   not fill a frame is dropped (as Asterisk does); larger than 65500 bytes closes the socket.
 * Asterisk defines no error message: a bad command is rejected (counted and logged), not answered.
 */
import type { EngineFormat } from '../link.js';
import type { StreamMeta } from '../types.js';
import { customParameters } from '../wire.js';
import { BYTES_PER_20MS, MarkBook, silence, type Dialect, type DialectAction, type WireOut } from './types.js';

export type AsteriskFormat = 'ulaw' | 'slin' | 'slin16';

export interface AsteriskOptions {
  format: AsteriskFormat;
  /** chan_websocket.conf `control_message_format` / the `f()` dial option. */
  controlFormat: 'json' | 'plain-text';
}

const FORMATS: Record<AsteriskFormat, EngineFormat> = { ulaw: 'mulaw8k', slin: 'l16-8k', slin16: 'l16-16k' };
const MAX_MARKS = 100;
/** Commands that need media from the app, refused while the direction is "in" (app only listens). */
const NEED_APP_MEDIA = new Set(['START_MEDIA_BUFFERING', 'STOP_MEDIA_BUFFERING', 'MARK_MEDIA', 'PAUSE_MEDIA', 'CONTINUE_MEDIA']);

type Pending = { kind: 'mark'; id?: string } | { kind: 'bulk'; id?: string };
type Command = { command: string; correlationId?: string; direction?: string };

export class AsteriskDialect implements Dialect {
  readonly maxFrameBytes = 65500;
  readonly format: EngineFormat;
  readonly replyFormat: EngineFormat;
  private readonly frame: number;
  private readonly marks = new MarkBook<Pending>(MAX_MARKS);
  private channelId = '';
  private bulk: Buffer | null = null;
  private direction: 'both' | 'in' | 'out' = 'both';
  private paused = false;
  private xoff = false;
  private drainWanted = false;
  private queued = 0;
  private maxQueued = 1000;

  constructor(private readonly o: AsteriskOptions) {
    this.format = this.replyFormat = FORMATS[o.format];
    this.frame = BYTES_PER_20MS[this.format];
  }

  private get json(): boolean {
    return this.o.controlFormat === 'json';
  }

  /** An event in the call's control format; plain-text parameters as `key:value` words. */
  private event(name: string, params: Record<string, string | number | boolean | undefined> = {}, positional?: string): string {
    if (this.json) {
      const body: Record<string, unknown> = { event: name, channel_id: this.channelId };
      for (const [k, v] of Object.entries(params)) if (v !== undefined) body[k] = v;
      if (positional !== undefined) body['correlation_id'] = positional;
      return JSON.stringify(body);
    }
    const words = Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}:${String(v)}`);
    if (positional !== undefined) words.push(positional);
    return [name, ...words].join(' ');
  }

  opening(meta: StreamMeta, reconnect: boolean): WireOut[] {
    this.channelId = meta.callSid;
    const connectionId = meta.streamSid;
    const channel = `WebSocket/${meta.agentId || 'vagw'}/${meta.callSid}`;
    const start = { connection_id: connectionId, channel, channel_id: this.channelId, format: this.o.format, optimal_frame_size: this.frame, ptime: 20 };
    if (!this.json) return [['MEDIA_START', ...Object.entries(start).map(([k, v]) => `${k}:${v}`)].join(' ')];
    const variables = {
      ...customParameters(meta, reconnect),
      MEDIA_WEBSOCKET_CONNECTION_ID: connectionId,
      MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE: String(this.frame),
    };
    return [JSON.stringify({ event: 'MEDIA_START', ...start, channel_variables: variables })];
  }

  audio(frame: Uint8Array): WireOut | null {
    // Direction "out" (from the app's side: it only sends): Asterisk sends it no media.
    if (this.direction === 'out') return null;
    return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  }

  dtmf(digit: string): WireOut {
    return this.event('DTMF_END', { digit });
  }

  markPlayed(name: string, cleared: boolean): WireOut | null {
    const p = this.marks.take(name);
    // FLUSH_MEDIA sends no MEDIA_BUFFERING_COMPLETED (and no mark) for what it discarded.
    if (!p || cleared) return null;
    return this.event(p.kind === 'mark' ? 'MEDIA_MARK_PROCESSED' : 'MEDIA_BUFFERING_COMPLETED', {}, p.id);
  }

  playout(queuedFrames: number, maxFrames: number): WireOut | null {
    this.queued = queuedFrames;
    this.maxQueued = maxFrames;
    if (!this.xoff && queuedFrames >= this.xoffLevel) {
      this.xoff = true;
      return this.event('MEDIA_XOFF');
    }
    if (this.xoff && queuedFrames < this.xonLevel) {
      this.xoff = false;
      return this.event('MEDIA_XON');
    }
    if (this.drainWanted && queuedFrames === 0 && !this.paused) {
      this.drainWanted = false;
      return this.event('QUEUE_DRAINED');
    }
    return null;
  }

  private get xoffLevel(): number {
    return Math.max(1, Math.floor(this.maxQueued * 0.9));
  }

  private get xonLevel(): number {
    return Math.max(1, Math.floor(this.maxQueued * 0.8));
  }

  closing(): null {
    return null;
  }

  receive(data: Buffer, isBinary: boolean): DialectAction[] {
    if (isBinary) return this.media(data);
    const cmd = this.json ? parseJson(data.toString('utf8')) : parsePlain(data.toString('utf8'));
    if (typeof cmd === 'string') return [{ kind: 'rejected', reason: cmd }];
    if (this.direction === 'in' && NEED_APP_MEDIA.has(cmd.command)) return [{ kind: 'rejected', reason: `${cmd.command} while the media direction is "in"` }];
    switch (cmd.command) {
      case 'ANSWER':
        return [];
      case 'HANGUP':
        return [{ kind: 'control', control: { type: 'hangup' } }];
      case 'START_MEDIA_BUFFERING':
        this.bulk ??= Buffer.alloc(0);
        return [];
      case 'STOP_MEDIA_BUFFERING': {
        const out: DialectAction[] = [];
        const rest = this.bulk;
        this.bulk = null;
        // What could not fill a frame gets silence appended, and goes out too.
        if (rest && rest.length > 0) out.push({ kind: 'audio', payload: Buffer.concat([rest, silence(this.format, this.frame - rest.length)]) });
        return [...out, ...this.mark({ kind: 'bulk', ...(cmd.correlationId ? { id: cmd.correlationId } : {}) })];
      }
      case 'FLUSH_MEDIA':
        this.bulk = null;
        this.paused = false;
        return [{ kind: 'clear' }, { kind: 'pause', on: false }];
      case 'PAUSE_MEDIA':
      case 'CONTINUE_MEDIA':
        this.paused = cmd.command === 'PAUSE_MEDIA';
        return [{ kind: 'pause', on: this.paused }];
      case 'MARK_MEDIA':
        return this.mark({ kind: 'mark', ...(cmd.correlationId ? { id: cmd.correlationId } : {}) });
      case 'GET_STATUS':
        return [{ kind: 'reply', out: this.status() }];
      case 'REPORT_QUEUE_DRAINED':
        this.drainWanted = true;
        return [];
      case 'SET_MEDIA_DIRECTION':
        if (cmd.direction !== 'in' && cmd.direction !== 'out' && cmd.direction !== 'both') return [{ kind: 'rejected', reason: `SET_MEDIA_DIRECTION: direction must be "in", "out" or "both", got ${JSON.stringify(cmd.direction ?? null)}` }];
        this.direction = cmd.direction;
        return [];
      default:
        return [{ kind: 'rejected', reason: `unknown command ${JSON.stringify(cmd.command.slice(0, 40))} (commands are case-sensitive)` }];
    }
  }

  private mark(p: Pending): DialectAction[] {
    const name = this.marks.add(p);
    return name ? [{ kind: 'mark', name }] : [{ kind: 'rejected', reason: `more than ${MAX_MARKS} marks pending` }];
  }

  private status(): string {
    return this.event('STATUS', {
      queue_length: this.queued,
      xon_level: this.xonLevel,
      xoff_level: this.xoffLevel,
      queue_full: this.xoff,
      bulk_media: this.bulk !== null,
      media_paused: this.paused,
    });
  }

  private media(data: Buffer): DialectAction[] {
    if (this.direction === 'in') return [{ kind: 'rejected', reason: 'media from the app while the media direction is "in" (dropped)' }];
    if (this.bulk) {
      const all = this.bulk.length ? Buffer.concat([this.bulk, data]) : data;
      const whole = all.length - (all.length % this.frame);
      this.bulk = Buffer.from(all.subarray(whole));
      return whole ? [{ kind: 'audio', payload: all.subarray(0, whole) }] : [];
    }
    const whole = data.length - (data.length % this.frame);
    const out: DialectAction[] = whole ? [{ kind: 'audio', payload: data.subarray(0, whole) }] : [];
    if (whole !== data.length) out.push({ kind: 'rejected', reason: `${data.length - whole} byte(s) dropped: media must come in multiples of optimal_frame_size (${this.frame}) outside START_MEDIA_BUFFERING` });
    return out;
  }
}

function parseJson(text: string): Command | string {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return 'control message is not JSON (this call uses the json control format)';
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'control message is not a JSON object';
  const o = m as Record<string, unknown>;
  if (typeof o.command !== 'string' || o.command === '') return 'control message has no string "command"';
  const cmd: Command = { command: o.command };
  if (o.correlation_id !== undefined) {
    if (typeof o.correlation_id !== 'string' || o.correlation_id === '') return `${o.command}: correlation_id must be a non-empty string`;
    cmd.correlationId = o.correlation_id;
  }
  if (typeof o.direction === 'string') cmd.direction = o.direction;
  return cmd;
}

function parsePlain(text: string): Command | string {
  const line = text.trim();
  if (line === '') return 'empty control message';
  if (line.startsWith('{')) return 'control message is JSON but this call uses the plain-text control format';
  const [command, arg] = line.split(/\s+/, 2) as [string, string | undefined];
  const cmd: Command = { command };
  if (arg !== undefined) {
    if (command === 'SET_MEDIA_DIRECTION') cmd.direction = arg.replace(/^direction:/, '');
    else cmd.correlationId = arg.replace(/^correlation_id:/, '');
  }
  return cmd;
}
