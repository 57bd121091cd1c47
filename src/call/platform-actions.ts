/**
 * What a contact center asks of a call (CCaaS adapter callbacks, Huawei events, agent-session
 * commands), applied through the same state machine as engine and REST actions (actions.ts). An
 * event for an agent with no live call, or an action the call's state does not allow, is refused
 * with the reason and never touches another call.
 */
import type { Logger } from 'pino';
import type { ActionOutcome, InboundEvent } from '../vendors/types.js';
import { act, ActionNotPossible } from './actions.js';
import type { Call } from './call.js';
import type { ContactCenterLink } from './lockstep.js';

type CallEvent = Exclude<InboundEvent, { type: 'agent-state' }>;

export function applyPlatformAction(call: Call | undefined, ev: CallEvent, link: ContactCenterLink, log: Logger): void {
  const respond = (o: ActionOutcome): void => {
    if (ev.type === 'call-action') ev.respond?.(o);
  };
  const what = ev.type === 'call-action' ? ev.action.kind : ev.type;
  if (!call) {
    // A release for a call already over is the platform confirming the end we made: not a fault.
    if (ev.type === 'call-released') log.debug({ vendor: link.vendor, agent: ev.agentId }, 'contact-center release for a call already ended');
    else log.warn({ vendor: link.vendor, agent: ev.agentId, event: what }, 'contact-center call event for an agent with no call: refused');
    return respond({ ok: false, status: 404, reason: `virtual agent ${ev.agentId} has no call` });
  }
  const clog = call.log.child({ vendor: link.vendor, event: what });
  // An event naming another call of the platform (a late release of the agent's previous call,
  // delivered after the next one began) must never touch this one.
  const other = Object.entries(ev.ids ?? {}).find(([k, v]) => v !== undefined && call.vendorIds?.[k] !== undefined && call.vendorIds[k] !== v);
  if (other) {
    clog.info({ [other[0]]: other[1], current: call.vendorIds?.[other[0]] }, 'contact-center event for another call of the agent: ignored');
    return respond({ ok: false, status: 409, reason: `${other[0]} ${other[1]} is not the agent's current call` });
  }
  const refuse = (status: 409 | 422 | 501, reason: string): void => {
    clog.warn({ reason }, 'contact-center action refused');
    respond({ ok: false, status, reason });
  };
  if (ev.type === 'call-released') {
    clog.info('the contact center released the call');
    call.endedBy ??= `platform:${link.vendor}`;
    void call.end('platform-ended');
    return respond({ ok: true });
  }
  const a = ev.action;
  try {
    switch (a.kind) {
      case 'accept':
        if (!call.accept()) return refuse(409, `the call is ${call.state} and not waiting for acceptance`);
        break;
      case 'end':
        if (call.state === 'ended') return refuse(409, 'the call has ended');
        if (a.termCode) call.termCode = a.termCode;
        call.endedBy ??= `platform:${link.vendor}`;
        void call.end('platform-ended');
        break;
      case 'hold':
        void act(call, 'HOLD', {});
        break;
      case 'resume':
        void act(call, 'RETRIEVE', {});
        break;
      case 'transfer': {
        const t = a.target;
        const target = t.number ? `tel:${t.number}` : undefined;
        void act(call, 'SINGLE_STEP_TRANSFER', { ...(t.phonebook ? { phonebook: t.phonebook } : {}), ...(t.contact ? { contact: t.contact } : {}), ...(target ? { target } : {}) });
        break;
      }
      case 'mute':
      case 'unmute':
        if (call.state !== 'active' && call.state !== 'held') return refuse(409, `the call is ${call.state}: nothing to ${a.kind}`);
        call.setMute(a.kind === 'mute');
        break;
    }
  } catch (e) {
    if (e instanceof ActionNotPossible) return refuse(409, e.message);
    if (e instanceof TypeError) return refuse(422, e.message);
    throw e;
  }
  clog.info('contact-center action applied');
  respond({ ok: true });
}
