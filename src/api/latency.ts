/**
 * Latency histograms in /metrics through prom-client (the maintained Prometheus client for Node):
 * INVITE received -> 200 OK sent, and hang-up -> Ready confirmed by the contact center. The other
 * families are plain counters rendered by metrics.ts; these need buckets, which prom-client keeps.
 */
import { Histogram, Registry } from 'prom-client';

export class Latency {
  readonly registry = new Registry();
  private readonly answer = new Histogram({
    name: 'vagw_invite_to_answer_seconds',
    help: 'INVITE received to 200 OK sent, for answered calls.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly ready = new Histogram({
    name: 'vagw_hangup_to_ready_seconds',
    help: 'Call ended to the contact center confirming the agent Ready again (the wrap-up).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  answered(ms: number): void {
    this.answer.observe(ms / 1000);
  }

  readyAgain(ms: number): void {
    this.ready.observe(ms / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
