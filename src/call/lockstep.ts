/**
 * What ties a call to its contact center: which vendor ids and screen pop the engine is given and
 * which term code a call gets for how it ended (the wrap-up steps that follow are the platform's
 * policy). Pure helpers plus one bounded fetch, so the orchestrator stays a readable sequence.
 */
import type { Logger } from 'pino';
import type { ContactCenterConfig } from '../config/types.js';
import type { ContactCenterPolicy, VendorAdapter, VendorCallIds } from '../vendors/types.js';
import { realClock, sleep, type Clock } from '../util/clock.js';
import type { EndReason } from './state.js';

/** A profile's contact center: the platform's adapter and policy, and the profile's settings. */
export interface ContactCenterLink {
  /** The platform's name (`contactCenter.vendor`). */
  vendor: string;
  adapter: VendorAdapter;
  policy: ContactCenterPolicy;
  cc: ContactCenterConfig;
}

/**
 * The vendor's ids for the call (INVITE headers first, else agent status) and its screen pop,
 * waiting at most `screenPopWaitMs` for the pop; a late pop is delivered through `late`.
 */
export async function fetchCallContext(
  link: ContactCenterLink,
  agentId: string,
  hint: VendorCallIds,
  log: Logger,
  late: (pop: Record<string, string>) => void,
  clock: Clock = realClock,
): Promise<{ ids: VendorCallIds; screenPop?: Record<string, string> }> {
  let ids: VendorCallIds = hint;
  try {
    ids = await link.adapter.callIds(agentId, hint);
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'vendor call ids unavailable; using what the INVITE carried');
  }
  let settled = false;
  const pop = link.adapter.screenPop(agentId).then(
    (p) => {
      if (settled) late(p);
      return p;
    },
    (e: Error) => {
      log.warn({ err: e.message }, 'screen pop unavailable');
      return undefined;
    },
  );
  const timeout = sleep(clock, link.cc.screenPopWaitMs).then(() => undefined);
  const screenPop = await Promise.race([pop, timeout]);
  settled = true;
  return screenPop ? { ids, screenPop } : { ids };
}

/** The term code a call gets for how it ended (the engine's own code wins). */
export function termCodeFor(reason: EndReason, cc: ContactCenterConfig, engineTermCode?: string, answered = true): string {
  if (engineTermCode) return engineTermCode;
  switch (reason) {
    case 'platform-ended':
      // The platform's agent ended a call it had: done. One it never accepted (480): failed.
      return answered ? cc.termCodes.completed : cc.termCodes.failed;
    case 'engine-hangup':
    case 'max-duration':
    case 'drain':
      return cc.termCodes.completed;
    case 'caller-bye':
    case 'caller-cancel':
      return cc.termCodes.callerHungUp;
    case 'transferred':
      return cc.termCodes.transferred;
    default:
      return cc.termCodes.failed;
  }
}
