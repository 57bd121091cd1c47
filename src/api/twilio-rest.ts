/**
 * Enough of Twilio's REST API for frameworks that hang up the Twilio way (Pipecat's serializer
 * with auto_hang_up: `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with
 * `Status=completed`; the base URL is configurable there). The AccountSid and CallSid are the ones
 * the engine got in `start`; the password is its engine's `restAuthToken` (HTTP Basic, as
 * Twilio). The hang-up takes the same path as the engine's `hangup` event (term code, Ready).
 * What this gateway does not do (Twiml, Url, other statuses) gets a clear 4xx in Twilio's error shape.
 */

export interface TwilioCall {
  /** Whether the call is still up (a hang-up of an ended call is answered with its final status). */
  readonly live: boolean;
  /** The auth token of the call's engine; undefined: REST control is not enabled for it. */
  readonly engineToken?: string | undefined;
  hangup(by: string): void;
}

export interface TwilioRestSources {
  /** The AccountSid engines get in `start` (the gateway's name). */
  accountSid: string;
  callBySid(callSid: string): TwilioCall | undefined;
}

export interface TwilioReply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

/** Twilio's error body: {code, message, more_info, status}. */
function error(status: number, code: number, message: string, headers?: Record<string, string>): TwilioReply {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, ...(headers ? { headers } : {}) };
}

/** Constant-time enough for tokens of equal length; different lengths differ anyway. */
function same(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

export function isTwilioPath(path: string): boolean {
  return path.startsWith('/2010-04-01/');
}

export function handleTwilioRest(method: string, path: string, authorization: string | undefined, body: string, src: TwilioRestSources, who: string): TwilioReply {
  const m = PATH.exec(path);
  if (!m) return error(404, 20404, `The requested resource ${path.slice(0, 120)} was not found (this gateway serves Calls/{CallSid}.json only)`);
  if (method !== 'POST' && method !== 'GET') return error(405, 20004, `Method ${method} not allowed`);
  const [, accountSid, callSid] = m as unknown as [string, string, string];
  const auth = /^Basic (.+)$/i.exec(authorization ?? '');
  const [user, password] = auth ? Buffer.from(auth[1]!, 'base64').toString('utf8').split(/:(.*)/s) : [];
  const unauthorized = error(401, 20003, 'Authenticate', { 'WWW-Authenticate': 'Basic realm="vagw"' });
  if (!user || password === undefined) return unauthorized;
  const call = src.callBySid(callSid);
  // Unknown account, unknown call, wrong token and an engine without REST control all answer
  // alike, so the API tells nothing to a caller without the right token.
  if (accountSid !== src.accountSid || user !== src.accountSid || !call?.engineToken || !same(password, call.engineToken)) {
    return call || accountSid !== src.accountSid ? unauthorized : error(404, 20404, `The requested resource /Calls/${callSid.slice(0, 64)} was not found`);
  }
  const resource = (status: string): Record<string, unknown> => ({ sid: callSid, account_sid: accountSid, status });
  if (method === 'GET') return { status: 200, body: resource(call.live ? 'in-progress' : 'completed') };
  const form = new URLSearchParams(body);
  if (form.has('Twiml') || form.has('Url')) return error(400, 21220, 'Twiml and Url are not supported by this gateway: only Status=completed (hang up)');
  const status = form.get('Status');
  if (status !== 'completed' && status !== 'canceled') return error(400, 21218, `Status must be completed (or canceled), got ${JSON.stringify(status ?? '')}`);
  if (call.live) call.hangup(who);
  return { status: 200, body: resource('completed') };
}
