/**
 * The sandbox call placer shared by every platform's simulator: it calls the gateway the way a
 * contact center routes a customer to a virtual agent, so the product can be tried without a
 * platform account and benchmarked at high call rates. It is a UAC on the gateway's own SIP stack
 * (src/sip: SipEndpoint, UserAgent, the INVITE client transaction and a UAC Dialog), one UDP
 * socket for every call plus one RTP socket per call, all calls paced by one 20 ms clock
 * (./media.ts).
 *
 * A platform shapes its calls (`CallShape`): the headers that carry its call ids, and the
 * Record-Route path its INVITEs arrive with. Entries of that path on closed ports stand for the
 * platform's own proxies: the placer plays them, so its in-dialog requests go past them to the
 * first real hop or the gateway's Contact, carrying the Route headers the route set gives
 * (RFC 3261 §12.2.1.1).
 */
import pino, { type Logger } from 'pino';
import { isIPv4 } from 'node:net';
import { SipEndpoint } from '../../sip/endpoint.js';
import { UserAgent, type RegisterHandler } from '../../sip/ua.js';
import { MediaClock } from './media.js';
import { SandboxCall, type CallEnd, type PlacedCall, type SandboxCallOptions } from './placed-call.js';

export { CallFailedError, type CallAnswer, type CallEnd, type PlacedCall, type PlacedCallState, type SandboxCallOptions } from './placed-call.js';

/** How one platform's calls look on the wire. */
export interface CallShape {
  /** User-Agent of the platform's SIP side. */
  userAgent: string;
  /** Record-Route entries of the INVITE, top first, given the placer's own (`<sip:host:port;lr>`). */
  recordRoute(self: string): string[];
}

export interface PlacerOptions {
  /** Address the SIP and RTP sockets bind to and that our headers advertise (IPv4). Default 127.0.0.1. */
  host?: string;
  /** SIP UDP port; 0 (the default) = an ephemeral port. */
  sipPort?: number;
  gateway: { host: string; port: number };
  shape: CallShape;
  logger?: Logger;
  /** Seconds of decoded gateway audio kept per call for receivedSamples() (default 4; 0 = none). */
  keepReceivedSeconds?: number;
  /** RFC 3261 T1/T2 in ms (default 500/4000); the transaction timers derive from them. */
  timers?: { t1?: number; t2?: number };
}

export interface PlacerStats {
  placed: number;
  answered: number;
  failed: number;
  endedByGateway: number;
  endedByCustomer: number;
  /** Customer BYEs (or CANCELs) that got no 2xx: a non-2xx final response or a timeout. */
  hangupErrors: number;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY';

export class SandboxPlacer {
  readonly stats: PlacerStats = { placed: 0, answered: 0, failed: 0, endedByGateway: 0, endedByCustomer: 0, hangupErrors: 0 };
  readonly host: string;
  /** Calls not over yet, by Call-ID. */
  private readonly live = new Map<string, SandboxCall>();
  private closed = false;
  /** @internal */ readonly clock = new MediaClock();
  /** @internal */ readonly log: Logger;
  /** @internal */ readonly keepSamples: number;
  /** @internal */ readonly t1: number;

  private constructor(
    readonly opts: PlacerOptions,
    /** @internal */ readonly endpoint: SipEndpoint,
    /** @internal */ readonly ua: UserAgent,
    log: Logger,
  ) {
    this.host = opts.host ?? '127.0.0.1';
    this.log = log;
    this.keepSamples = Math.max(0, Math.round((opts.keepReceivedSeconds ?? 4) * 8000));
    this.t1 = endpoint.timers.T1;
  }

  static async start(opts: PlacerOptions): Promise<SandboxPlacer> {
    const host = opts.host ?? '127.0.0.1';
    if (!isIPv4(host)) throw new Error(`the sandbox placer's host must be an IPv4 address, got '${host}'`);
    if (!opts.gateway?.host || !Number.isInteger(opts.gateway.port) || opts.gateway.port < 1 || opts.gateway.port > 65535) {
      throw new Error('the sandbox placer needs gateway { host, port }');
    }
    const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'sandbox-placer' });
    const t1 = opts.timers?.t1 ?? 500;
    const endpoint = new SipEndpoint({ host, port: opts.sipPort ?? 0, transports: ['udp'], advertisedHost: host, logger: log, timers: { T1: t1, T2: opts.timers?.t2 ?? 4000, T4: 5000 } });
    await endpoint.start();
    const ua = new UserAgent(endpoint, { userAgent: opts.shape.userAgent, sessionTimers: { minSE: 90, defaultExpires: 1800 }, logger: log });
    ua.common['Allow'] = ALLOW;
    // A platform's SIP side that only places calls: an INVITE to it is refused.
    ua.on('invite', (inv) => inv.reject(403, 'The sandbox places calls; it takes none'));
    return new SandboxPlacer(opts, endpoint, ua, log);
  }

  /**
   * A platform whose agents' phones register with it (RFC 3261 §10.3) answers REGISTER on the
   * placer's SIP port: the address its calls come from is the one the phones know.
   */
  setRegistrar(handler: RegisterHandler): void {
    this.ua.setRegistrar(handler);
  }

  get sipPort(): number {
    return this.endpoint.port;
  }

  /** Calls placed and not over yet (inviting or answered). */
  get active(): number {
    return this.live.size;
  }

  /** A live call, by a predicate on its options (e.g. the platform's call id in its headers). */
  find(match: (o: SandboxCallOptions) => boolean): PlacedCall | undefined {
    for (const c of this.live.values()) if (match(c.options)) return c;
    return undefined;
  }

  get gateway(): { address: string; port: number } {
    return { address: this.opts.gateway.host, port: this.opts.gateway.port };
  }

  /** Our own Record-Route entry: in-dialog requests from the gateway come back here. */
  get selfRoute(): string {
    return `<sip:${this.host}:${this.sipPort};lr>`;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  place(o: SandboxCallOptions): PlacedCall {
    if (this.closed) throw new Error('the sandbox placer is closed');
    const call = new SandboxCall(this, o);
    this.live.set(call.callId, call);
    this.stats.placed++;
    void call.start();
    return call;
  }

  /** @internal The call is over: its counters. */
  callEnded(call: SandboxCall, end: CallEnd): void {
    this.live.delete(call.callId);
    if (end.by === 'gateway') this.stats.endedByGateway++;
    else if (end.by === 'customer') this.stats.endedByCustomer++;
    else this.stats.failed++;
  }

  /** Hang up what is still up (waiting at most `graceMs` for the answers), then release everything. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const up = [...this.live.values()];
    if (up.length) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(up.map((c) => c.hangup())), new Promise((r) => (t = setTimeout(r, graceMs)))]);
      clearTimeout(t);
    }
    for (const c of [...this.live.values()]) c.dispose();
    this.clock.stop();
    await this.endpoint.stop();
  }
}

/**
 * A simulator's calls and the legs the placer placed for them, by the platform's call id: when a
 * leg ends the simulator is told (`ended`), and the simulator ending a call hangs its leg up.
 */
export class PlacedLegs<C extends PlacedCall = PlacedCall> {
  private readonly legs = new Map<string, C>();

  track(id: string, leg: C, ended: (end: CallEnd) => void): void {
    this.legs.set(id, leg);
    void leg.ended.then((end) => {
      this.legs.delete(id);
      ended(end);
    });
  }

  hangup(id: string): void {
    void this.legs.get(id)?.hangup();
  }

  get(id: string): C | undefined {
    return this.legs.get(id);
  }
}

