/**
 * The call as an operator or an engine sees it, after the Genesys voice interaction model
 * (../shared/vendors/genesys-ail.md): a status and the actions possible in it. An action that is
 * not possible now is refused with the list of what is, never half-done.
 */
import type { Call } from './call.js';

export type CallStatus = 'RINGING' | 'TALKING' | 'HELD' | 'IDLE';
export type CallAction = 'RELEASE_CALL' | 'HOLD' | 'RETRIEVE' | 'SINGLE_STEP_TRANSFER' | 'SEND_DTMF';

export class ActionNotPossible extends Error {
  override readonly name = 'ActionNotPossible';
  constructor(
    readonly action: string,
    readonly status: CallStatus,
    readonly possible: CallAction[],
  ) {
    super(`${action} is not possible while the call is ${status}; possible now: ${possible.join(', ') || 'none'}`);
  }
}

export function statusOf(call: Call): CallStatus {
  switch (call.state) {
    case 'ringing':
      return 'RINGING';
    case 'ended':
      return 'IDLE';
    case 'held':
      return 'HELD';
    case 'active':
      return call.onHold ? 'HELD' : 'TALKING';
  }
}

export function actionsPossible(call: Call): CallAction[] {
  switch (statusOf(call)) {
    case 'RINGING':
      return ['RELEASE_CALL'];
    case 'TALKING':
      return call.busyTransferring ? ['RELEASE_CALL'] : ['RELEASE_CALL', 'HOLD', 'SINGLE_STEP_TRANSFER', 'SEND_DTMF'];
    case 'HELD':
      // A caller-side hold (re-INVITE) is the caller's to end; ours can be retrieved.
      return call.onHold ? ['RELEASE_CALL', 'RETRIEVE'] : ['RELEASE_CALL'];
    case 'IDLE':
      return [];
  }
}

export interface ActionParams {
  termCode?: string;
  phonebook?: string;
  contact?: string;
  target?: string;
  digits?: string;
}

/**
 * Apply an action through the same paths the engine's control events use. Release and transfer
 * are started, not awaited (their end — a BYE's answer, a human joining — may take seconds); how
 * they end shows in the call's status.
 */
export async function act(call: Call, action: string, p: ActionParams, by = 'api'): Promise<void> {
  const possible = actionsPossible(call);
  if (!possible.includes(action as CallAction)) throw new ActionNotPossible(action, statusOf(call), possible);
  switch (action as CallAction) {
    case 'RELEASE_CALL':
      return void call.release(by, p.termCode);
    case 'HOLD':
      return call.setHold(true);
    case 'RETRIEVE':
      return call.setHold(false);
    case 'SINGLE_STEP_TRANSFER':
      if (!p.phonebook && !p.contact && !p.target) throw new TypeError('SINGLE_STEP_TRANSFER needs phonebook, contact or target');
      return void call.control({ type: 'transfer', ...(p.phonebook ? { phonebook: p.phonebook } : {}), ...(p.contact ? { contact: p.contact } : {}), ...(p.target ? { target: p.target } : {}) });
    case 'SEND_DTMF':
      if (!p.digits || !/^[0-9*#A-D]{1,32}$/.test(p.digits)) throw new TypeError('SEND_DTMF needs digits (1-32 of 0-9 * # A-D)');
      return call.sendDigits(p.digits);
  }
}
