/**
 * SIP helpers of the LiveVox simulator's call placer, built only on the pure message code of
 * src/sip: identifiers, responses (RFC 3261 §8.2.6), where a response goes (§18.2.2 with rport,
 * RFC 3581) and the non-INVITE client transaction (§17.1.2: Timer E, Timer F) used for BYE,
 * CANCEL and NOTIFY.
 */
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { parseNameAddr, parseUri, parseVia } from '../../../sip/grammar.js';
import { newResponse, REASON, SipHeaders, type SipMessage, type SipRequest, type SipResponse } from '../../../sip/message.js';
import { serialize } from '../../../sip/serializer.js';

export interface Dest {
  address: string;
  port: number;
}

/** RFC 3261 §17.1.1.1 timer base; tests may shorten it. */
export interface SipTimers {
  t1: number;
  t2: number;
}

export const DEFAULT_TIMERS: SipTimers = { t1: 500, t2: 4000 };

const prefix = randomBytes(4).toString('hex');
let counter = 0;

/** Unique within the process and unguessable enough for tags, branches and Call-IDs. */
export function token(): string {
  counter = (counter + 1) >>> 0;
  return `${prefix}${counter.toString(36)}${randomBytes(3).toString('hex')}`;
}

/** RFC 3261 §8.1.1.7: branches start with the magic cookie. */
export const newBranch = (): string => `z9hG4bK${token()}`;

export function topBranch(msg: SipMessage): string | undefined {
  const v = msg.headers.get('Via');
  if (!v) return undefined;
  try {
    return parseVia(v).params['branch'] ?? undefined;
  } catch {
    return undefined;
  }
}

/** §8.2.6.2: Via (all), From, To (+ our tag when it has none), Call-ID and CSeq copied. */
export function makeResponse(req: SipRequest, status: number, reason?: string, toTag?: string, extra: [string, string][] = [], body?: string): SipResponse {
  const h = new SipHeaders();
  for (const v of req.headers.lines('Via')) h.add('Via', v);
  h.add('From', req.headers.get('From') ?? '');
  const to = req.headers.get('To') ?? '';
  h.add('To', status > 100 && toTag && !/;\s*tag=/i.test(to) ? `${to};tag=${toTag}` : to);
  h.add('Call-ID', req.headers.get('Call-ID') ?? '');
  h.add('CSeq', req.headers.get('CSeq') ?? '');
  for (const [k, v] of extra) h.add(k, v);
  return newResponse(status, reason ?? REASON[status] ?? 'Unknown', h, body ? Buffer.from(body) : Buffer.alloc(0));
}

/** §18.2.2 for UDP: the source address; the source port with rport (RFC 3581), else sent-by's. */
export function responseDest(req: SipRequest, source: Dest): Dest {
  try {
    const via = parseVia(req.headers.get('Via') ?? '');
    if ('rport' in via.params) return source;
    return { address: source.address, port: via.port ?? 5060 };
  } catch {
    return source;
  }
}

/** Host and port of a SIP URI (or name-addr) when its host is a numeric IPv4 address. */
export function uriDest(value: string): Dest | undefined {
  try {
    const u = parseUri(value.includes('<') ? parseNameAddr(value).uri : value);
    if (!isIPv4(u.host)) return undefined;
    return { address: u.host, port: u.port ?? 5060 };
  } catch {
    return undefined;
  }
}

/** The URI inside a Route/Record-Route value, without its parameters, for comparisons. */
export function routeKey(value: string): string {
  try {
    const u = parseUri(parseNameAddr(value).uri);
    return `${u.host}:${u.port ?? 5060}`;
  } catch {
    return value;
  }
}

export function hasLr(value: string): boolean {
  try {
    return 'lr' in parseUri(parseNameAddr(value).uri).params;
  } catch {
    return false;
  }
}

interface ClientTx {
  buf: Buffer;
  dest: Dest;
  interval: number;
  proceeding: boolean;
  timerE?: NodeJS.Timeout;
  timerF?: NodeJS.Timeout;
  resolve: (r: SipResponse | 'timeout') => void;
}

/** Non-INVITE client transactions over one socket (§17.1.2), keyed by branch and method. */
export class NonInviteTransactions {
  private readonly txs = new Map<string, ClientTx>();

  constructor(
    private readonly send: (buf: Buffer, dest: Dest) => void,
    private readonly timers: SipTimers,
  ) {}

  get size(): number {
    return this.txs.size;
  }

  /** Send `req` (its top Via carries a fresh branch) and settle with the final response or Timer F. */
  request(req: SipRequest, dest: Dest): Promise<SipResponse | 'timeout'> {
    const key = `${topBranch(req)}|${req.method}`;
    const buf = serialize(req);
    return new Promise((resolve) => {
      const tx: ClientTx = { buf, dest, interval: this.timers.t1, proceeding: false, resolve };
      const retransmit = (): void => {
        this.send(tx.buf, tx.dest);
        // §17.1.2.2: doubling up to T2 while trying, T2 once a provisional response arrived.
        tx.interval = tx.proceeding ? this.timers.t2 : Math.min(2 * tx.interval, this.timers.t2);
        tx.timerE = setTimeout(retransmit, tx.interval);
      };
      this.txs.set(key, tx);
      this.send(buf, dest);
      tx.timerE = setTimeout(retransmit, tx.interval);
      tx.timerF = setTimeout(() => this.settle(key, 'timeout'), 64 * this.timers.t1);
    });
  }

  /** Feed a response; true when it belonged to one of our transactions. */
  onResponse(key: string, res: SipResponse): boolean {
    const tx = this.txs.get(key);
    if (!tx) return false;
    if (res.status < 200) {
      tx.proceeding = true;
      return true;
    }
    this.settle(key, res);
    return true;
  }

  private settle(key: string, r: SipResponse | 'timeout'): void {
    const tx = this.txs.get(key);
    if (!tx) return;
    this.txs.delete(key);
    clearTimeout(tx.timerE);
    clearTimeout(tx.timerF);
    tx.resolve(r);
  }

  /** Give up on everything in flight (each settles as 'timeout'). */
  closeAll(): void {
    for (const key of [...this.txs.keys()]) this.settle(key, 'timeout');
  }
}
