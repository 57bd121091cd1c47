/**
 * One session's WebRTC signalling channel inside the media worker: the link's offer goes out
 * through `send` (to the main thread, then the call layer); the far end's answer, candidates and
 * failures come in through `deliver`. Kept outside session.ts so a session needs no WebRTC code:
 * the worker hands the channel to openEngine for this session only.
 */
import type { IceSettings, WebRtcSignal } from '../types.js';
import type { WebRtcSignalling } from './link.js';

/** Signals kept while no link listens (a candidate racing the link's set-up); more are dropped. */
const MAX_BUFFERED = 64;

export class SignalChannel implements WebRtcSignalling {
  private listener?: (s: WebRtcSignal) => void;
  private readonly buffered: WebRtcSignal[] = [];

  constructor(
    readonly host: string,
    readonly send: (s: WebRtcSignal) => void,
    readonly ice?: IceSettings,
  ) {}

  listen(cb: (s: WebRtcSignal) => void): () => void {
    this.listener = cb;
    for (const s of this.buffered.splice(0)) cb(s);
    return () => {
      if (this.listener === cb) this.listener = undefined;
    };
  }

  deliver(s: WebRtcSignal): void {
    if (this.listener) this.listener(s);
    else if (this.buffered.length < MAX_BUFFERED) this.buffered.push(s);
  }

  /** The session is closing: a link still connecting gives up now instead of at its timeout. */
  close(reason: string): void {
    this.deliver({ type: 'failed', reason });
    this.listener = undefined;
    this.buffered.length = 0;
  }
}
