/**
 * LiveVox REST shapes as they travel on the wire (../shared/vendors/livevox.md), shared by the
 * client and the simulator so both sides agree by construction. Fields marked [unofficial] in the
 * facts file come from third-party clients; the simulator documents what it chose in its README.
 */

/** ACD line states. RESERVED is accepted from a real LiveVox but never produced by the simulator. */
export const LINE_STATES = ['LOGOFF', 'LOGON', 'READY', 'NOTREADY', 'INCALL', 'WRAPUP', 'TRANSFERRING', 'HOLD', 'RESERVED'] as const;
export type LineState = (typeof LINE_STATES)[number];

export const LINE_NUMBERS = ['ACD', 'DIRECT', ...Array.from({ length: 20 }, (_, i) => `EXT${i + 1}`)] as const;

/** `agent` is `true` in the developer portal and `"true"` in the integration guide: both are accepted. */
export interface LoginRequest {
  clientName: string;
  userName: string;
  password: string;
  agent: boolean | 'true';
}

export interface LoginResponse {
  sessionId: string;
  userId: number;
  clientId: number;
  daysUntilPasswordExpires: number;
}

export interface LineCall {
  callTransactionId: string;
  callSessionId: string;
  serviceId: string;
  accountNumber: string;
  phoneNumber: string;
  firstName: string;
  lastName: string;
}

/** Simulator extension: present while a phonebook conference is in progress. */
export interface LineConference {
  phoneBookId: string;
  phoneBookContactId: string;
  humanJoined: boolean;
}

export interface AgentLine {
  lineNumber: string;
  state: LineState;
  /** Epoch milliseconds. */
  stateChangedTime: number;
  call?: LineCall;
  conference?: LineConference;
}

export interface AgentStatusResponse {
  agentStatus: { lines: AgentLine[] };
}

export interface ScreenPopRow {
  key: string;
  value: string;
}

export interface ScreenPopResponse {
  screenPopRow: ScreenPopRow[];
}

export interface WireTermCode {
  id: string;
  name: string;
  lvResult: string;
  actionType: string;
}

export interface TermCodesResponse {
  termCodeCategories: { name: string; termCodes: WireTermCode[] }[];
}

export interface SetTermCodeRequest {
  callTransactionId: string;
  callSessionId: string;
  termCodeId: string;
  /** Required: one of the five fields of the guide's body. */
  phoneDialed: string;
  /** Required. The guide sends the string form ("false"); booleans are accepted too. */
  moveAgentToNotReady: boolean | 'true' | 'false';
  serviceId?: string;
  account?: string;
  notes?: string;
  paymentAmt?: string;
}

export interface WirePhoneBookContact {
  phoneBookContactId: string;
  contactName: string;
  phoneNumber: string;
}

export interface WirePhoneBook {
  phoneBookId: string;
  name: string;
  contacts: WirePhoneBookContact[];
}

export interface PhoneBooksResponse {
  phoneBooks: WirePhoneBook[];
}

export interface ConferenceRequest {
  phoneBookId: string;
  phoneBookContactId: string;
}

/** Error body [unofficial shape]: `{ "code": <int>, "message": "..." }`. */
export interface ErrorBody {
  code: number;
  message: string;
}

/**
 * The simulator's error codes. A real LiveVox has its own numbers; the client and adapter match
 * these and, as a fallback, the message text (see adapter.ts).
 */
export const LvCode = {
  missingField: 1001,
  invalidField: 1002,
  malformedBody: 1003,
  badAccessToken: 2001,
  badCredentials: 2002,
  unknownClient: 2003,
  sessionExpired: 2004,
  invalidSession: 2005,
  notFound: 3001,
  noCall: 3002,
  unknownPath: 3003,
  methodNotAllowed: 3004,
  wrongState: 4001,
  notJoined: 4002,
  alreadyInState: 4003,
  termCodeAlreadySet: 4004,
  termCodeConflict: 4005,
  notAgentCall: 4006,
  humanNotJoined: 4007,
  termCodeRequired: 4008,
  numberInUse: 4009,
  duplicateCall: 4010,
  contactExists: 4011,
  injectedFault: 5001,
} as const;
export type LvCodeValue = (typeof LvCode)[keyof typeof LvCode];

/** Body of PUT /callControl/agent/call/termCode (both the client and the simulator use it). */
export interface TermCodeBody {
  callTransactionId: string;
  callSessionId: string;
  termCodeId: string;
  moveAgentToNotReady: boolean;
  phoneDialed: string;
  serviceId?: string;
  account?: string;
  notes?: string;
}
