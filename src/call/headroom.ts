/**
 * The gateway's answer to overload, in one place: which new call is refused with 503 (two shed
 * controllers, ./overload.ts) and how many agents its contact centers are offered (the Ready
 * gate, ./ready-gate.ts).
 *
 * - Calls a contact center routes are admitted upstream: while the main thread is saturated
 *   (event-loop utilization over its limit) the Ready gate offers fewer agents, and the platform
 *   keeps the customers in its queue. A 503 for such a call still costs the INVITE, its term code
 *   and its Ready, so utilization is not a reason to refuse them; the other signals are.
 * - Calls nobody routes (profiles without a contact center, carriers calling a number) have only
 *   the door: every signal, utilization included, refuses a share of them.
 */
import type { OverloadLimits, OverloadSignals } from './overload.js';
import { only, overloaded, ShedController } from './overload.js';
import { ReadyGate } from './ready-gate.js';
import type { Clock } from '../util/clock.js';

export interface HeadroomOptions {
  limits: () => OverloadLimits;
  signals: OverloadSignals;
  clock: Clock;
  /** Calls up now (the gate's "in service", with the agents Ready in the pool). */
  calls: () => number;
  readyAgents: () => number;
  agents: () => number;
}

export class Headroom {
  private readonly routed: ShedController;
  private readonly unrouted: ShedController;
  readonly gate: ReadyGate;

  constructor(o: HeadroomOptions) {
    const now = (): number => o.clock.now();
    this.routed = new ShedController(o.limits, o.signals, now, ['eventLoopUtilization']);
    this.unrouted = new ShedController(o.limits, o.signals, now);
    this.gate = new ReadyGate({
      clock: o.clock,
      inService: () => o.calls() + o.readyAgents(),
      // The gateway's own headroom lowers the cap. Not the wrap-up signals: a slow contact-center
      // API already returns agents slowly, and Readys the gate holds must not count against it.
      overloaded: () => overloaded(only(o.limits(), ['eventLoopDelayMs', 'eventLoopUtilization', 'mediaLatenessMs']), o.signals) !== null,
      minLimit: 4,
      agents: o.agents,
    });
  }

  /** Null to take this call; otherwise the signal it is refused for. */
  decide(routedByContactCenter: boolean): ReturnType<typeof overloaded> {
    return (routedByContactCenter ? this.routed : this.unrouted).decide();
  }

  /** The larger share of new calls refused now (0..1). */
  get shedShare(): number {
    return Math.max(this.routed.shedShare, this.unrouted.shedShare);
  }

  start(): void {
    this.gate.start();
  }

  stop(): void {
    this.gate.stop();
  }
}
