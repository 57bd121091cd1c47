/**
 * The admin API under /__sim/ for black-box tests and benches (no authentication; loopback only):
 *   GET  /__sim/state              everything the simulator remembers (SimSnapshot);
 *                                  ?callPrefix=<p>: only the calls whose transaction id starts with p
 *   GET  /__sim/faults             the current faults
 *   POST /__sim/faults             replace the faults (body: Faults; {} clears them)
 *   POST /__sim/expire-sessions    end every session now -> { expired }
 *   POST /__sim/calls              { agent, call? } route a call to a READY agent -> CallRecord
 *   POST /__sim/calls/end          { transactionId, by: 'customer' | 'agent' } -> CallRecord
 *   GET  /__sim/arrivals           the ACD's customers: { config, stats } (./acd.ts)
 *   POST /__sim/arrivals           { ratePerSec, talkMs?, maxWaitMs?, serviceId?, prefix?, dropWaiting? }
 *                                  customers from now on (ratePerSec 0 stops them) -> { config, stats }
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
  arrivals(body: Record<string, unknown>): unknown;
  arrivalsNow(): unknown;
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

function route(ctx: AdminContext, method: string, path: string, query: URLSearchParams, body: () => unknown): AdminResponse {
  const st = ctx.state;
  switch (`${method} ${path}`) {
    case 'GET /__sim/state': {
      const prefix = query.get('callPrefix');
      return { status: 200, body: st.snapshot(prefix ? (id) => id.startsWith(prefix) : undefined) };
    }
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
    case 'GET /__sim/arrivals':
      return { status: 200, body: ctx.arrivalsNow() };
    case 'POST /__sim/arrivals':
      return { status: 200, body: ctx.arrivals(object(body())) };
    default:
      throw new SimError(404, LvCode.unknownPath, `no admin API at ${method} ${path}`);
  }
}

export function adminHandle(ctx: AdminContext, method: string, path: string, body: () => unknown, query = new URLSearchParams()): AdminResponse {
  try {
    return route(ctx, method, path.replace(/\/+$/, ''), query, body);
  } catch (err) {
    if (err instanceof SimError) return { status: err.status, body: { code: err.code, message: err.message } };
    throw err;
  }
}
