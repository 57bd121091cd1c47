/**
 * The sandbox's ACD: customers arriving at a steady rate wait in the service's queue and are
 * routed, first come first served, to the READY agent that has been idle longest, the way
 * LiveVox's ACD serves an inbound service. Each customer hangs up `talkMs` after the call is
 * answered (or routed, when no SIP leg is attached) and gives up after `maxWaitMs` in the queue.
 *
 * This is the open-loop load a contact center puts on a virtual-agent gateway: the arrival rate
 * does not depend on how fast the gateway is, so a rate past what it can serve is an overload
 * the gateway has to survive (by holding agents back or refusing calls), and nobody polls the
 * simulator for READY agents (a READY agent with customers waiting gets the next one at once).
 *
 * Pure apart from `schedule` (how a dispatch soon is asked for): time comes from `now`, and the
 * owner calls `tick` on a timer (arrivals, abandonment, hang-ups due).
 */
import { LvCode } from '../wire.js';
import { endCall, startCall } from './ops-call.js';
import { SimError, type AgentRecord } from './records.js';
import type { SimState } from './state.js';

export interface ArrivalsConfig {
  /** Customers per second; 0 = none arrive. */
  ratePerSec: number;
  /** The customer hangs up this long after the call is answered. */
  talkMs: number;
  /** A customer still waiting after this long hangs up (abandons). */
  maxWaitMs: number;
  /** The service the customers call; default: every joined agent's service. */
  serviceId?: string;
  /** Transaction ids are `<prefix><n>`, so a test or a bench finds its calls. */
  prefix: string;
}

export interface ArrivalStats {
  /** Since the last configure. */
  arrived: number;
  routed: number;
  abandoned: number;
  /** Customers dropped: the queue emptied by `dropWaiting`, or a call the simulator refused to start. */
  dropped: number;
  waiting: number;
  maxWaiting: number;
  /** Calls the customer hung up after the talk time; calls the agent's side ended first. */
  hungUp: number;
  endedByAgent: number;
  /** Queue wait of the routed customers, ms. */
  waitMs: { p50: number | null; p99: number | null; max: number | null };
}

interface Waiting {
  id: string;
  at: number;
}

const WAIT_SAMPLES = 200_000;

export class Acd {
  private cfg: ArrivalsConfig = { ratePerSec: 0, talkMs: 0, maxWaitMs: 0, prefix: 'acd-' };
  private stats = Acd.emptyStats();
  private waits: number[] = [];
  private credit = 0;
  private lastArrival: number | null = null;
  private seq = 0;
  private readonly queue: Waiting[] = [];
  private head = 0;
  /** READY agents, in the order they became READY (longest idle first). */
  private readonly ready = new Map<string, true>();
  /**
   * Calls of ours that are up: how long the customer talks (the rate's talk time when it was routed;
   * a later configure does not change it) and when it hangs up (undefined: not answered yet).
   */
  private readonly talking = new Map<string, { talkMs: number; due?: number }>();
  private dispatchAsked = false;

  constructor(
    private readonly st: SimState,
    private readonly opts: {
      now: () => number;
      /** Run `fn` soon, outside the current simulator operation. */
      schedule: (fn: () => void) => void;
      /** true: the talk time starts when the owner reports the answer (`answered`). */
      talkFromAnswer: () => boolean;
    },
  ) {
    for (const a of st.agentMap.values()) if (a.state === 'READY') this.ready.set(a.user, true);
    st.events.on('agent-state', (a) => this.agentState(a));
    st.events.on('call-ended', (call, by) => {
      if (!this.talking.delete(call.transactionId)) return;
      if (by === 'customer') this.stats.hungUp++;
      else this.stats.endedByAgent++;
    });
  }

  private static emptyStats(): ArrivalStats {
    return { arrived: 0, routed: 0, abandoned: 0, dropped: 0, waiting: 0, maxWaiting: 0, hungUp: 0, endedByAgent: 0, waitMs: { p50: null, p99: null, max: null } };
  }

  get config(): ArrivalsConfig {
    return { ...this.cfg };
  }

  /** Nothing to do until configured again: no arrivals, nobody waiting, no call of ours up. */
  get idle(): boolean {
    return this.cfg.ratePerSec === 0 && this.head >= this.queue.length && this.talking.size === 0;
  }

  /**
   * New arrivals from now on. Starting arrivals (a rate above 0) starts the counters again;
   * stopping them keeps the counters, so the calls still up are counted as they end. Waiting
   * customers stay queued unless `dropWaiting`.
   */
  configure(cfg: ArrivalsConfig, dropWaiting = false): ArrivalStats {
    if (cfg.serviceId !== undefined) this.st.service(cfg.serviceId);
    if (dropWaiting) {
      this.stats.dropped += this.queue.length - this.head;
      this.queue.length = 0;
      this.head = 0;
    }
    this.cfg = { ...cfg };
    if (cfg.ratePerSec > 0) {
      const waiting = this.queue.length - this.head;
      this.stats = { ...Acd.emptyStats(), waiting, maxWaiting: waiting };
      this.waits = [];
    }
    this.credit = 0;
    this.lastArrival = this.opts.now();
    return this.snapshot();
  }

  snapshot(): ArrivalStats {
    const s = [...this.waits].sort((a, b) => a - b);
    const at = (p: number): number | null => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : null);
    return { ...this.stats, waiting: this.queue.length - this.head, waitMs: { p50: at(50), p99: at(99), max: s.length ? s[s.length - 1]! : null } };
  }

  /** The SIP leg of one of our calls was answered: the customer talks from now. */
  answered(transactionId: string): void {
    const t = this.talking.get(transactionId);
    if (t && t.due === undefined) t.due = this.opts.now() + t.talkMs;
  }

  /** Arrivals due by now, customers who gave up, hang-ups due, then routing. */
  tick(): void {
    const now = this.opts.now();
    if (this.lastArrival !== null && this.cfg.ratePerSec > 0) {
      // Arrivals are spread evenly (a credit counter): the same rate gives the same load every run.
      this.credit += ((now - this.lastArrival) / 1000) * this.cfg.ratePerSec;
      for (; this.credit >= 1; this.credit--) {
        // When this customer arrived: evenly spaced, so a late tick does not shorten the waits.
        this.queue.push({ id: `${this.cfg.prefix}${++this.seq}`, at: now - ((this.credit - 1) / this.cfg.ratePerSec) * 1000 });
        this.stats.arrived++;
      }
    }
    this.lastArrival = now;
    while (this.head < this.queue.length && now - this.queue[this.head]!.at > this.cfg.maxWaitMs) {
      this.head++;
      this.stats.abandoned++;
    }
    for (const [id, { due }] of this.talking) {
      if (due === undefined || due > now) continue;
      this.talking.delete(id);
      this.stats.hungUp++;
      try {
        endCall(this.st, id, 'customer');
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
      }
    }
    this.dispatch();
  }

  private agentState(a: AgentRecord): void {
    this.ready.delete(a.user);
    if (a.state !== 'READY') return;
    this.ready.set(a.user, true);
    if (this.head < this.queue.length && !this.dispatchAsked) {
      this.dispatchAsked = true;
      // Not inside the operation that made the agent READY: its answer must say READY.
      this.opts.schedule(() => {
        this.dispatchAsked = false;
        this.dispatch();
      });
    }
  }

  private dispatch(): void {
    const now = this.opts.now();
    while (this.head < this.queue.length) {
      const user = this.nextAgent();
      if (user === undefined) break;
      const w = this.queue[this.head++]!;
      try {
        startCall(this.st, user, { transactionId: w.id, ...(this.cfg.serviceId ? { serviceId: this.cfg.serviceId } : {}) });
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        if (e.code === LvCode.wrongState) {
          // The agent was not READY after all (a state change not seen yet): the customer waits on.
          this.head--;
          continue;
        }
        // Refused for the customer itself (a transaction id already taken): it is dropped, counted.
        this.stats.dropped++;
        continue;
      }
      this.stats.routed++;
      if (this.waits.length < WAIT_SAMPLES) this.waits.push(now - w.at);
      const talkMs = this.cfg.talkMs;
      this.talking.set(w.id, this.opts.talkFromAnswer() ? { talkMs } : { talkMs, due: now + talkMs });
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const waiting = this.queue.length - this.head;
    if (waiting > this.stats.maxWaiting) this.stats.maxWaiting = waiting;
  }

  /** The READY agent idle longest, in the configured service. */
  private nextAgent(): string | undefined {
    for (const user of this.ready.keys()) {
      const a = this.st.agentMap.get(user);
      if (!a || a.state !== 'READY' || !a.serviceId) {
        this.ready.delete(user);
        continue;
      }
      if (this.cfg.serviceId !== undefined && a.serviceId !== this.cfg.serviceId) continue;
      this.ready.delete(user);
      return user;
    }
    return undefined;
  }
}

const num = (o: Record<string, unknown>, name: string, min: number, max: number, dflt?: number): number => {
  const v = o[name];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new SimError(400, LvCode.invalidField, `invalid field '${name}': must be a number within ${min}..${max}`);
  }
  return v;
};

/** POST /__sim/arrivals: every refusal names the field. */
export function checkArrivals(body: Record<string, unknown>, defaultPrefix: string): { cfg: ArrivalsConfig; dropWaiting: boolean } {
  const known = ['ratePerSec', 'talkMs', 'maxWaitMs', 'serviceId', 'prefix', 'dropWaiting'];
  for (const k of Object.keys(body)) if (!known.includes(k)) throw new SimError(400, LvCode.invalidField, `invalid arrivals: unknown key '${k}'`);
  const cfg: ArrivalsConfig = {
    ratePerSec: num(body, 'ratePerSec', 0, 5000),
    talkMs: num(body, 'talkMs', 0, 3_600_000, 30_000),
    maxWaitMs: num(body, 'maxWaitMs', 0, 3_600_000, 60_000),
    prefix: defaultPrefix,
  };
  for (const k of ['serviceId', 'prefix'] as const) {
    const v = body[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '' || v.length > 40 || !/^[\w.-]+$/.test(v)) throw new SimError(400, LvCode.invalidField, `invalid field '${k}': must be 1..40 letters, digits, '_', '.' or '-'`);
    cfg[k] = v;
  }
  const drop = body['dropWaiting'];
  if (drop !== undefined && typeof drop !== 'boolean') throw new SimError(400, LvCode.invalidField, "invalid field 'dropWaiting': must be true or false");
  return { cfg, dropWaiting: drop === true };
}
