/**
 * The admin API under /__sim/ for black-box tests and benches (no authentication; loopback only):
 *   GET  /__sim/state              everything the simulator remembers (SimSnapshot)
 *   GET  /__sim/faults             the current faults
 *   POST /__sim/faults             replace the faults (body: Faults; {} clears them)
 *   POST /__sim/expire-sessions    end every session now -> { expired }
 *   POST /__sim/calls              { agent, call? } route a call to a READY agent -> CallRecord
 *   POST /__sim/calls/end          { transactionId, by: 'customer' | 'agent' } -> CallRecord
 */
import { LvCode } from '../wire.js';
import { checkFaults, type FaultInjector } from './faults.js';
import { endCall, startCall } from './ops-call.js';
import { SimError, type CallInput } from './records.js';
import type { SimState } from './state.js';
import { flatFields, object, optStr, str } from './validate.js';

export interface AdminContext {
  state: SimState;
  faults: FaultInjector;
}

interface AdminResponse {
  status: number;
  body?: unknown;
}

function callInput(x: unknown): CallInput {
  const o = object(x, false);
  const input: CallInput = {};
  for (const k of ['transactionId', 'sessionId', 'account', 'phoneNumber', 'firstName', 'lastName', 'serviceId'] as const) {
    const v = optStr(o, k);
    if (v !== undefined) input[k] = v;
  }
  if (o['extra'] !== undefined) input.extra = flatFields(object(o['extra']));
  return input;
}

function route(ctx: AdminContext, method: string, path: string, body: () => unknown): AdminResponse {
  const st = ctx.state;
  switch (`${method} ${path}`) {
    case 'GET /__sim/state':
      return { status: 200, body: st.snapshot() };
    case 'GET /__sim/faults':
      return { status: 200, body: ctx.faults.current };
    case 'POST /__sim/faults':
      ctx.faults.set(checkFaults(body() ?? {}));
      return { status: 200, body: ctx.faults.current };
    case 'POST /__sim/expire-sessions':
      return { status: 200, body: { expired: st.expireSessions() } };
    case 'POST /__sim/calls': {
      const b = object(body());
      return { status: 201, body: startCall(st, str(b, 'agent'), callInput(b['call'])) };
    }
    case 'POST /__sim/calls/end': {
      const b = object(body());
      const by = str(b, 'by');
      if (by !== 'customer' && by !== 'agent') throw new SimError(400, LvCode.invalidField, "invalid field 'by': must be 'customer' or 'agent'");
      return { status: 200, body: endCall(st, str(b, 'transactionId'), by) };
    }
    default:
      throw new SimError(404, LvCode.unknownPath, `no admin API at ${method} ${path}`);
  }
}

export function adminHandle(ctx: AdminContext, method: string, path: string, body: () => unknown): AdminResponse {
  try {
    return route(ctx, method, path.replace(/\/+$/, ''), body);
  } catch (err) {
    if (err instanceof SimError) return { status: err.status, body: { code: err.code, message: err.message } };
    throw err;
  }
}
