/**
 * Messages an engine sends on /webrtc, checked field by field so a malformed one gets an `error`
 * naming the problem (and is otherwise ignored) instead of half-applying.
 */
export type AttachControl =
  | { type: 'hangup'; termCode?: string; reason?: string }
  | { type: 'transfer'; phonebook?: string; contact?: string; target?: string }
  | { type: 'dtmf'; digits: string }
  | { type: 'hold' }
  | { type: 'unhold' };

export type AttachIn =
  | { type: 'claim'; agents: string[] }
  | { type: 'release'; agents: string[] }
  | { type: 'answer'; callId: string; sdp: string }
  | { type: 'candidate'; callId: string; candidate: string; sdpMid?: string }
  | { type: 'reject'; callId: string; reason?: string }
  | { type: 'control'; callId: string; control: AttachControl };

export type AttachParse = { msg: AttachIn } | { error: string; code: 'invalid-json' | 'invalid-message' | 'unknown-event' };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (error: string): AttachParse => ({ error, code: 'invalid-message' });

function str(o: Obj, key: string, optional = false): string | undefined | Error {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) return new Error(`'${key}' must be a non-empty string`);
  return v;
}

function agentList(o: Obj): string[] | Error {
  const a = o['agents'];
  if (!Array.isArray(a) || a.length === 0 || a.length > 1000 || !a.every((x) => typeof x === 'string' && x.length > 0)) {
    return new Error("'agents' must be a non-empty list of agent ids or numbers");
  }
  return a as string[];
}

const DTMF = /^[0-9*#A-Da-d]{1,32}$/;

function control(v: unknown): AttachControl | Error {
  if (!isObj(v) || typeof v['type'] !== 'string') return new Error("'control' must be an object with a 'type'");
  switch (v['type']) {
    case 'hangup':
    case 'hold':
    case 'unhold':
    case 'transfer': {
      const out: Obj = { type: v['type'] };
      for (const k of ['termCode', 'reason', 'phonebook', 'contact', 'target']) {
        if (v[k] === undefined) continue;
        if (typeof v[k] !== 'string') return new Error(`'control.${k}' must be a string`);
        out[k] = v[k];
      }
      if (v['type'] === 'transfer' && !out['phonebook'] && !out['contact'] && !out['target']) {
        return new Error("a transfer needs 'phonebook', 'contact' or 'target'");
      }
      return out as AttachControl;
    }
    case 'dtmf':
      if (typeof v['digits'] !== 'string' || !DTMF.test(v['digits'])) return new Error("'control.digits' must be 1-32 of 0-9 * # A-D");
      return { type: 'dtmf', digits: v['digits'] };
    default:
      return new Error(`unknown control type '${String(v['type'])}' (hangup, transfer, dtmf, hold, unhold)`);
  }
}

export function parseAttachMessage(text: string): AttachParse {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}`, code: 'invalid-json' };
  }
  if (!isObj(v) || typeof v['type'] !== 'string') return bad("a message must be a JSON object with a string 'type'");
  const type = v['type'];
  if (type === 'claim' || type === 'release') {
    const agents = agentList(v);
    return agents instanceof Error ? bad(agents.message) : { msg: { type, agents } };
  }
  if (!['answer', 'candidate', 'reject', 'control'].includes(type)) {
    return { error: `unknown message type '${type}' (claim, release, answer, candidate, reject, control)`, code: 'unknown-event' };
  }
  const callId = str(v, 'callId');
  if (callId instanceof Error) return bad(callId.message);
  switch (type) {
    case 'answer': {
      const sdp = str(v, 'sdp');
      if (sdp instanceof Error) return bad(sdp.message);
      return { msg: { type, callId: callId!, sdp: sdp! } };
    }
    case 'candidate': {
      const candidate = str(v, 'candidate');
      const sdpMid = str(v, 'sdpMid', true);
      if (candidate instanceof Error) return bad(candidate.message);
      if (sdpMid instanceof Error) return bad(sdpMid.message);
      return { msg: { type, callId: callId!, candidate: candidate!, ...(sdpMid ? { sdpMid } : {}) } };
    }
    case 'reject': {
      const reason = str(v, 'reason', true);
      if (reason instanceof Error) return bad(reason.message);
      return { msg: { type, callId: callId!, ...(reason ? { reason } : {}) } };
    }
    default: {
      const c = control(v['control']);
      return c instanceof Error ? bad(c.message) : { msg: { type: 'control', callId: callId!, control: c } };
    }
  }
}
