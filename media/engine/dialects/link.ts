/**
 * An engine that speaks a stream dialect (jambonz listen, Asterisk chan_websocket) over one
 * WebSocket: the dialect spells the messages, this link does the I/O, backpressure and close
 * reporting the way EngineConnection does for the gateway's own protocol.
 */
import { WebSocket } from 'ws';
import { guard } from '../../../src/util/faults.js';
import type { EngineHandlers, EngineLink } from '../link.js';
import { EngineSocketEnd, openEngineSocket, toBuffer } from '../socket.js';
import { signEngineToken } from '../token.js';
import type { StreamMeta } from '../types.js';
import { AsteriskDialect, type AsteriskOptions } from './asterisk.js';
import { JambonzDialect, type JambonzOptions } from './jambonz.js';
import type { Dialect, DialectAction, WireOut } from './types.js';

export type DialectSpec = { protocol: 'jambonz'; jambonz: JambonzOptions } | { protocol: 'asterisk'; asterisk: AsteriskOptions };

export function makeDialect(spec: DialectSpec): Dialect {
  return spec.protocol === 'jambonz' ? new JambonzDialect(spec.jambonz) : new AsteriskDialect(spec.asterisk);
}

export interface DialectLinkOptions {
  url: string;
  meta: StreamMeta;
  reconnect: boolean;
  secret?: string;
  timeoutMs: number;
  tls?: { rejectUnauthorized?: boolean };
  /** Default 1 MiB: above this many unsent bytes caller audio is dropped. */
  maxBufferedBytes?: number;
}

/** Rejections are logged once per reason per call; all of them are counted. */
const MAX_REASONS_LOGGED = 10;

export class DialectLink implements EngineLink {
  readonly format;
  readonly replyFormat;
  rejected = 0;
  private readonly end: EngineSocketEnd;
  private readonly logged = new Set<string>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly dialect: Dialect,
    private readonly h: EngineHandlers,
    private readonly o: DialectLinkOptions,
  ) {
    this.format = dialect.format;
    this.replyFormat = dialect.replyFormat;
    ws.on('message', guard('media.engine.message', (data: WebSocket.RawData, isBinary: boolean) => this.receive(toBuffer(data), isBinary), { context: () => ({ callId: o.meta.callSid }) }));
    this.end = new EngineSocketEnd(ws, dialect.maxFrameBytes, (info) => h.closed(info));
  }

  static async open(spec: DialectSpec, o: DialectLinkOptions, h: EngineHandlers): Promise<DialectLink> {
    const dialect = makeDialect(spec);
    const ws = await openEngineSocket({
      url: o.url,
      ...(o.secret ? { headers: { authorization: `Bearer ${signEngineToken(o.meta, o.secret)}` } } : {}),
      ...(dialect.subprotocol ? { subprotocol: dialect.subprotocol } : {}),
      maxPayload: dialect.maxFrameBytes,
      timeoutMs: o.timeoutMs,
      ...(o.tls ? { tls: o.tls } : {}),
    });
    const link = new DialectLink(ws, dialect, h, o);
    for (const m of dialect.opening(o.meta, o.reconnect)) link.write(m);
    return link;
  }

  private get open(): boolean {
    return this.end.isOpen;
  }

  private write(m: WireOut | null): void {
    if (m !== null && this.open) this.ws.send(m, { binary: typeof m !== 'string' });
  }

  sendAudio(frame: Uint8Array): void {
    if (!this.open || !this.end.audioRoom(this.o.maxBufferedBytes ?? 1 << 20)) return;
    this.write(this.dialect.audio(frame));
  }

  sendDtmf(digit: string, durationMs = 100): void {
    this.write(this.dialect.dtmf(digit, durationMs));
  }

  sendMark(name: string, cleared = false): void {
    this.write(this.dialect.markPlayed(name, cleared));
  }

  playout(queuedFrames: number, maxFrames: number): void {
    if (this.open) this.write(this.dialect.playout(queuedFrames, maxFrames));
  }

  /** Gateway extension events and `error` are the gateway's own protocol; these dialects have neither. */
  sendEvent(): void {}
  sendError(): void {}

  stop(reason = 'call ended'): void {
    this.end.stop(reason, () => this.write(this.dialect.closing(reason)));
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.end.ended) return;
    for (const a of this.dialect.receive(data, isBinary)) this.act(a);
  }

  private act(a: DialectAction): void {
    switch (a.kind) {
      case 'audio': return this.h.audio(a.payload, a.format);
      case 'mark': return this.h.mark(a.name);
      case 'clear': return this.h.clear();
      case 'pause': return this.h.pause?.(a.on);
      case 'control': return this.h.control(a.control);
      case 'reply': return this.write(a.out);
      case 'rejected':
        this.rejected++;
        this.h.rejected?.(a.reason, !this.logged.has(a.reason) && this.logged.size < MAX_REASONS_LOGGED);
        this.logged.add(a.reason);
        return;
    }
  }
}
