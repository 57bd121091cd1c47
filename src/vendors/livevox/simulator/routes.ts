/**
 * The LiveVox API surface: method + path -> handler. Handlers validate the request (400 naming
 * the field), then apply the rules in ops-*.ts (which throw SimError). Paths may carry an API
 * version segment (`/session/v6.0/login`, `/callControl/v6.0/agent/...`): it is ignored.
 */
import { LINE_NUMBERS, LvCode, type AgentStatusResponse, type LoginResponse, type PhoneBooksResponse, type ScreenPopResponse, type TermCodesResponse } from '../wire.js';
import { SimError, type AgentRecord } from './records.js';
import { joinService, leaveService, notReady, ready, screenPop, statusLines } from './ops-agent.js';
import { conference, hangUp, hold, leaveConference, setTermCode } from './ops-call.js';
import { createContact, phoneBooks, termCodes, updateContact } from './ops-catalog.js';
import type { SimState } from './state.js';
import { bool, flatFields, id, object, optEpochMs, optStr, query, str } from './validate.js';

export interface ApiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  header(name: string): string | undefined;
  body: unknown;
}

export interface ApiResponse {
  status: number;
  body?: LoginResponse | AgentStatusResponse | ScreenPopResponse | TermCodesResponse | PhoneBooksResponse | { code: number; message: string };
}

type Handler = (st: SimState, agent: AgentRecord, req: ApiRequest) => ApiResponse | void;

const A = '/callControl/agent';
const CONTACT = '/contact/contacts';

const ROUTES: Record<string, Handler> = {
  [`POST ${A}/service/join`]: (st, ag, r) => joinService(st, ag, query(r.query, 'serviceId'), query(r.query, 'phoneNumber')),
  [`POST ${A}/service/leave`]: (st, ag) => leaveService(st, ag),
  [`POST ${A}/status/ready`]: (st, ag) => ready(st, ag),
  [`POST ${A}/status/notReady`]: (st, ag, r) => notReady(st, ag, r.query.get('reasonCode') ?? undefined),
  [`POST ${A}/status`]: (st, ag, r) => {
    optEpochMs(object(r.body, false), 'stateChangedAfter');
    return { status: 200, body: { agentStatus: { lines: statusLines(st, ag) } } };
  },
  [`GET ${A}/screenpop`]: (st, ag) => ({ status: 200, body: { screenPopRow: screenPop(st, ag) } }),
  [`GET ${A}/termCode`]: (st, _ag, r) => ({ status: 200, body: termCodes(st, query(r.query, 'serviceId')) }),
  [`PUT ${A}/call/termCode`]: (st, ag, r) => {
    const b = object(r.body);
    const args = {
      callTransactionId: id(b, 'callTransactionId'),
      callSessionId: str(b, 'callSessionId'),
      termCodeId: id(b, 'termCodeId'),
      moveAgentToNotReady: bool(b, 'moveAgentToNotReady'),
      // The guide's body has all five fields; the sandbox holds the gateway to all five.
      phoneDialed: str(b, 'phoneDialed'),
      serviceId: optStr(b, 'serviceId'),
      notes: optStr(b, 'notes'),
    };
    optStr(b, 'account');
    optStr(b, 'paymentAmt');
    setTermCode(st, ag, args);
  },
  [`GET ${A}/phonebook/ext`]: (st, _ag, r) => ({ status: 200, body: { phoneBooks: phoneBooks(st, query(r.query, 'serviceId')) } }),
  [`POST ${A}/conference/phonebook`]: (st, ag, r) => {
    const line = r.query.get('lineNumber') ?? 'ACD';
    if (!(LINE_NUMBERS as readonly string[]).includes(line)) throw new SimError(400, LvCode.invalidField, `invalid query parameter 'lineNumber': ${line} (ACD, DIRECT or EXT1..EXT20)`);
    const b = object(r.body);
    conference(st, ag, line, id(b, 'phoneBookId'), id(b, 'phoneBookContactId'));
  },
  [`POST ${A}/conference/leave`]: (st, ag) => leaveConference(st, ag),
  [`POST ${A}/customer/call/end`]: (st, ag) => hangUp(st, ag),
  [`POST ${A}/customer/call/hold`]: (st, ag) => hold(st, ag, true),
  [`POST ${A}/customer/call/unhold`]: (st, ag) => hold(st, ag, false),
  [`PUT ${CONTACT}/{account}`]: (st, _ag, r) => void updateContact(st, accountOf(r.path), flatFields(object(r.body))),
  [`POST ${CONTACT}`]: (st, _ag, r) => {
    const b = object(r.body);
    createContact(st, str(b, 'account'), flatFields(b, ['account']));
  },
};

const KNOWN_PATHS = new Set(Object.keys(ROUTES).map((k) => k.slice(k.indexOf(' ') + 1)).concat('/session/login'));

function accountOf(path: string): string {
  return decodeURIComponent(path.slice(CONTACT.length + 1));
}

/** '/session/v6.0/login' -> '/session/login'; '/contact/contacts/42' -> '/contact/contacts/{account}'. */
export function canonicalPath(path: string): string {
  const p = path.replace(/^\/(session|callControl|contact|configuration)\/v\d+(?:\.\d+)*(?=\/)/, '/$1').replace(/\/+$/, '');
  if (p.startsWith(`${CONTACT}/`) && p.length > CONTACT.length + 1 && !p.slice(CONTACT.length + 1).includes('/')) return `${CONTACT}/{account}`;
  return p;
}

function login(st: SimState, req: ApiRequest): ApiResponse {
  const token = req.header('lv-access');
  st.checkAccessToken(token);
  const b = object(req.body);
  const clientName = str(b, 'clientName');
  const userName = str(b, 'userName');
  const password = str(b, 'password');
  if (b['agent'] === undefined || b['agent'] === null) throw new SimError(400, LvCode.missingField, "missing field 'agent'");
  if (b['agent'] !== true && b['agent'] !== 'true') throw new SimError(400, LvCode.invalidField, "invalid field 'agent': must be true (or \"true\") for an agent login");
  return { status: 200, body: st.login(token, clientName, userName, password) };
}

/** Answer one API request; SimError becomes `{ code, message }` with its status. */
export function handle(st: SimState, req: ApiRequest): ApiResponse {
  const path = canonicalPath(req.path);
  st.countRequest(`${req.method} ${path}`);
  try {
    if (path === '/session/login') {
      if (req.method !== 'POST') throw new SimError(405, LvCode.methodNotAllowed, `${req.method} not allowed on /session/login (use POST)`);
      return login(st, req);
    }
    const handler = ROUTES[`${req.method} ${path}`];
    if (!handler) {
      if (KNOWN_PATHS.has(path)) throw new SimError(405, LvCode.methodNotAllowed, `${req.method} not allowed on ${path}`);
      throw new SimError(404, LvCode.unknownPath, `no API at ${req.method} ${req.path}`);
    }
    const agent = st.authenticate(req.header('lv-session'));
    return handler(st, agent, req) ?? { status: 204 };
  } catch (err) {
    if (err instanceof SimError) return { status: err.status, body: { code: err.code, message: err.message } };
    throw err;
  }
}
