/**
 * Keeps one call's engine link alive: connects when the call starts, and when the engine is
 * unreachable or its socket drops, tries once more (the new `start` says reconnect) within the
 * profile's window. A second failure is reported once through `failed`; what happens then is the
 * session's failure policy.
 */
import type { EngineHandlers, EngineLink } from './link.js';
import type { EngineCloseInfo } from './types.js';
import type { OpenRequest } from '../types.js';

export type EngineOpener = (target: OpenRequest['engine'], req: OpenRequest, reconnect: boolean, h: EngineHandlers, timeoutMs: number) => Promise<EngineLink>;

export interface SupervisorCallbacks extends Omit<EngineHandlers, 'closed'> {
  /** The link went away; what it had queued is void. Called before any reconnect attempt. */
  lost(detail: string): void;
  /** No engine any more (the reconnect failed or was not allowed). Called at most once. */
  failed(detail: string): void;
}

type State = 'idle' | 'connecting' | 'up' | 'failed' | 'ended' | 'closed';

export class EngineSupervisor {
  private link?: EngineLink;
  private state: State = 'idle';
  private retried = false;
  reconnects = 0;

  constructor(
    private readonly req: OpenRequest,
    private readonly open: EngineOpener,
    private readonly cb: SupervisorCallbacks,
  ) {}

  /** The link, only while it is up. */
  get up(): EngineLink | undefined {
    return this.state === 'up' ? this.link : undefined;
  }

  start(): void {
    if (this.state === 'idle') void this.connect(false);
  }

  private async connect(reconnect: boolean): Promise<void> {
    const target = this.req.engine;
    this.state = 'connecting';
    const timeout = reconnect ? this.req.failure.reconnectWindowMs : target.kind === 'builtin' ? 0 : target.connectTimeoutMs;
    const handlers: EngineHandlers = {
      ...this.cb,
      control: (ev) => {
        // After the engine's hangup nothing it does may bring a second connection: its close
        // (whenever the worker sees it) is the end it announced.
        if (ev.type === 'hangup') this.state = 'ended';
        this.cb.control(ev);
      },
      closed: (info) => this.closed(info),
    };
    try {
      const link = await this.open(target, this.req, reconnect, handlers, timeout);
      if ((this.state as State) === 'closed') return link.stop('call ended');
      this.link = link;
      this.state = 'up';
    } catch (e) {
      if ((this.state as State) === 'closed') return;
      this.lost(`engine ${target.kind === 'ws' ? target.url : target.name} unreachable: ${(e as Error).message}`);
    }
  }

  private closed(info: EngineCloseInfo): void {
    // After stop() the state is 'closed'. A close of ours before that (a frame over the limit, an
    // engine too slow to read) is the engine breaking the protocol: a lost link, not silence.
    if (this.state === 'closed' || this.state === 'ended') return;
    this.link = undefined;
    if (info.code === 1000 && !info.byUs) {
      // RFC 6455 §7.4.1 normal closure: the engine ended the call the way a Twilio <Stream> ends
      // (Pipecat on EndFrame). That is a hang-up with no term code (the profile's "completed"),
      // not a failure to recover from.
      this.state = 'ended';
      this.cb.control({ type: 'hangup' });
      return;
    }
    this.lost(`engine socket closed (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
  }

  private lost(detail: string): void {
    this.cb.lost(detail);
    // A WebRTC far end cannot be re-dialled from here (a new offer needs new signalling): no retry.
    if (!this.retried && this.req.failure.reconnectWindowMs > 0 && this.req.engine.kind !== 'webrtc') {
      this.retried = true;
      this.reconnects++;
      void this.connect(true);
      return;
    }
    this.state = 'failed';
    this.cb.failed(detail);
  }

  /** Idempotent: `stop` to the engine if it is up, and no reconnects after this. */
  stop(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.link?.stop(reason);
    this.link = undefined;
  }
}
