/**
 * LiveVox's shape of the sandbox's calls: LiveVox conferences a virtual agent in with an INVITE
 * `sip:<899 number>@<gateway>` carrying three Record-Route entries (the first being the placer
 * itself, so the gateway's in-dialog requests come back to it, then two LiveVox proxies, played by
 * the placer on closed loopback ports) and X-transaction-id, Session-ID, X-agent-login-id and
 * DNIS (../shared/vendors/livevox.md). The SIP and RTP are the shared placer's (src/vendors/sandbox).
 */
import type { Logger } from 'pino';
import { SandboxPlacer, type CallShape, type PlacedCall, type PlacerStats } from '../../sandbox/placer.js';

export { CallFailedError, type CallAnswer, type CallEnd, type PlacedCallState } from '../../sandbox/placer.js';

/** LiveVox proxies on the dialog's path: loopback addresses nothing listens on. */
const LIVEVOX_PROXIES = ['<sip:127.0.0.2:5998;lr>', '<sip:127.0.0.3:5998;lr>'];

export const LIVEVOX_SHAPE: CallShape = {
  userAgent: 'vagw-livevox-simulator',
  recordRoute: (self) => [self, ...LIVEVOX_PROXIES],
};

export interface PlacerOptions {
  host?: string;
  sipPort?: number;
  gateway: { host: string; port: number };
  logger?: Logger;
  keepReceivedSeconds?: number;
  timers?: { t1?: number; t2?: number };
}

export interface PlaceCallOptions {
  /** The agent's 899 number, e.g. '+18990000001': the Request-URI user. */
  number: string;
  transactionId: string;
  sessionId: string;
  agentLoginId?: string;
  dnis?: string;
  /** The customer's number (E.164), the From user. Default +13125550100. */
  caller?: string;
  audio?: { toneHz: number; amplitude?: number } | 'silence' | 'none';
  maxDurationMs?: number;
}

/** A placed LiveVox call: the leg of LiveVox call `transactionId`. */
export interface LiveVoxPlacedCall extends PlacedCall {
  readonly transactionId: string;
}
export type { PlacerStats };

export class CallPlacer {
  private constructor(private readonly sandbox: SandboxPlacer) {}

  static async start(opts: PlacerOptions): Promise<CallPlacer> {
    return new CallPlacer(await SandboxPlacer.start({ ...opts, shape: LIVEVOX_SHAPE }));
  }

  get stats(): PlacerStats {
    return this.sandbox.stats;
  }
  get active(): number {
    return this.sandbox.active;
  }
  get sipPort(): number {
    return this.sandbox.sipPort;
  }
  get host(): string {
    return this.sandbox.host;
  }
  get selfRoute(): string {
    return this.sandbox.selfRoute;
  }

  place(o: PlaceCallOptions): LiveVoxPlacedCall {
    if (!o.transactionId || !o.sessionId) throw new TypeError('transactionId and sessionId are required');
    const headers: Record<string, string> = { 'X-transaction-id': o.transactionId, 'Session-ID': o.sessionId };
    if (o.agentLoginId !== undefined) headers['X-agent-login-id'] = o.agentLoginId;
    if (o.dnis !== undefined) headers['DNIS'] = o.dnis;
    const call = this.sandbox.place({
      number: o.number,
      headers,
      ...(o.caller !== undefined ? { caller: o.caller } : {}),
      ...(o.audio !== undefined ? { audio: o.audio } : {}),
      ...(o.maxDurationMs !== undefined ? { maxDurationMs: o.maxDurationMs } : {}),
    });
    return Object.assign(call, { transactionId: o.transactionId });
  }

  /** The call placed for a LiveVox call (by X-transaction-id), while it lasts. */
  find(transactionId: string): LiveVoxPlacedCall | undefined {
    return this.sandbox.find((o) => o.headers?.['X-transaction-id'] === transactionId) as LiveVoxPlacedCall | undefined;
  }

  close(graceMs?: number): Promise<void> {
    return this.sandbox.close(graceMs);
  }
}

export type { LiveVoxPlacedCall as PlacedCall };
