/**
 * Calls answered for a contact center and not yet handed to the wrap-up outbox, on disk. A call
 * that dies with the process (SIGKILL, a crash, the machine lost) leaves its agent on the call or
 * in wrap-up at the contact center, and without this record the next run would not know it
 * existed: the platform would wait for a disposition that never comes. At the next start each
 * call left over gets its platform's wrap-up plan with the profile's `failed` term code, exactly
 * once: the wrap-up steps are written before the record is removed, and a record whose steps
 * already reached the outbox (a crash between the two writes) is only removed.
 */
import type { OutboxEntry, OutboxStore } from '../store/outbox.js';
import type { VendorCallIds, WrapStep } from '../vendors/types.js';

export interface OpenCall {
  /** The call's key (the SIP Call-ID, or Call-ID~n for a second call on it). */
  callId: string;
  agentId: string;
  profile: string;
  /** The contact center's ids of the call: those of the INVITE, then those resolved after answer. */
  ids: VendorCallIds;
  answeredAt: number;
}

export class OpenCalls {
  constructor(private readonly store: OutboxStore<OpenCall>) {}

  /** The call was answered (or its platform ids became known): on disk before the call can be lost. */
  opened(c: OpenCall): Promise<void> {
    return this.store.put(c.callId, c, { replace: true });
  }

  /** Its wrap-up is in the outbox (or it needs none): forgotten. */
  closed(callId: string): Promise<void> {
    return this.store.done(callId);
  }

  get size(): number {
    return this.store.size;
  }

  list(): OpenCall[] {
    return this.store.pending().map((e) => e.step);
  }

  /**
   * At start: the wrap-up of each call the previous run left open, recorded (not run) with
   * `record`, then the call forgotten. `plan` gives the steps (undefined: its profile is gone, the
   * call is only reported). `entries`: only these (a cluster node taking over one agent
   * recovers what its dead owner left, not its own live calls). Returns what was done, for the log.
   */
  async recover(o: {
    plan: (c: OpenCall) => WrapStep[] | undefined;
    hasSteps: (callId: string) => boolean;
    record: (steps: WrapStep[]) => Promise<void>;
  }, entries: OutboxEntry<OpenCall>[] = this.store.pending()): Promise<{ wrapped: OpenCall[]; alreadyQueued: OpenCall[]; unknownProfile: OpenCall[] }> {
    const out = { wrapped: [] as OpenCall[], alreadyQueued: [] as OpenCall[], unknownProfile: [] as OpenCall[] };
    for (const e of entries) {
      const c = e.step;
      if (o.hasSteps(c.callId)) out.alreadyQueued.push(c);
      else {
        const steps = o.plan(c);
        if (steps) {
          await o.record(steps);
          out.wrapped.push(c);
        } else out.unknownProfile.push(c);
      }
      await this.store.done(e.id);
    }
    return out;
  }
}
