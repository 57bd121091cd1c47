/** Pure helpers of the LiveVox adapter: state and id mapping, transfer targets, the term-code cache. */
import { VendorError, type TransferTarget, type VendorAgentState, type VendorCallIds } from '../types.js';
import type { LineCall, LineState, TermCodesResponse, WirePhoneBook, WirePhoneBookContact, WireTermCode } from './wire.js';

const STATES: Record<LineState, VendorAgentState> = {
  LOGOFF: 'logged-out',
  LOGON: 'logged-in',
  READY: 'ready',
  NOTREADY: 'not-ready',
  INCALL: 'in-call',
  HOLD: 'in-call',
  TRANSFERRING: 'in-call',
  // Reserved for a call about to be delivered: not available.
  RESERVED: 'in-call',
  WRAPUP: 'wrap-up',
};

export function toVendorState(s: string): VendorAgentState {
  return Object.hasOwn(STATES, s) ? STATES[s as LineState] : 'unknown';
}

export function toCallIds(c: Partial<LineCall>): VendorCallIds {
  const ids: VendorCallIds = {};
  const put = (k: string, v: unknown): void => {
    if (typeof v === 'string' && v !== '') ids[k] = v;
    else if (typeof v === 'number') ids[k] = String(v);
  };
  put('transactionId', c.callTransactionId);
  put('sessionId', c.callSessionId);
  put('serviceId', c.serviceId);
  put('account', c.accountNumber);
  put('phoneDialed', c.phoneNumber);
  put('firstName', c.firstName);
  put('lastName', c.lastName);
  return ids;
}

const same = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

function pick<T>(items: T[], wanted: string | undefined, idOf: (t: T) => string, nameOf: (t: T) => string, what: string): T {
  const list = (): string => items.map((t) => `${nameOf(t)} (${idOf(t)})`).join(', ') || 'none';
  if (wanted === undefined || wanted === '') {
    if (items.length === 1) return items[0] as T;
    throw new VendorError(`livevox transfer: name the ${what}; there are ${items.length}: ${list()}`, 'livevox transfer', false);
  }
  const found = items.find((t) => idOf(t) === wanted) ?? items.find((t) => nameOf(t) === wanted) ?? items.find((t) => same(nameOf(t), wanted));
  if (!found) throw new VendorError(`livevox transfer: no ${what} '${wanted}'; have: ${list()}`, 'livevox transfer', false);
  return found;
}

/** The phonebook and contact a transfer target names (by id or name; either may be left out when there is only one). */
export function findTarget(books: WirePhoneBook[], target: TransferTarget, serviceId: string): { book: WirePhoneBook; contact: WirePhoneBookContact } {
  const book = pick(books, target.phonebook, (b) => b.phoneBookId, (b) => b.name, `phonebook of service ${serviceId}`);
  const contact = pick(book.contacts, target.contact, (c) => c.phoneBookContactId, (c) => c.contactName, `contact in phonebook ${book.name}`);
  return { book, contact };
}

/** Term codes per service, loaded once; a name or id not found refreshes the list once. */
export class TermCodeCache {
  private readonly byService = new Map<string, WireTermCode[]>();

  constructor(private readonly load: (user: string, serviceId: string) => Promise<TermCodesResponse['termCodeCategories']>) {}

  async resolve(user: string, serviceId: string, wanted: string): Promise<WireTermCode> {
    const find = (codes: WireTermCode[]): WireTermCode | undefined =>
      codes.find((t) => String(t.id) === wanted) ?? codes.find((t) => t.name === wanted) ?? codes.find((t) => same(t.name, wanted));
    const cached = this.byService.get(serviceId);
    const hit = cached && find(cached);
    if (hit) return hit;
    const fresh = (await this.load(user, serviceId)).flatMap((c) => c.termCodes ?? []).map((t) => ({ ...t, id: String(t.id) }));
    this.byService.set(serviceId, fresh);
    const code = find(fresh);
    if (!code) {
      const have = fresh.map((t) => `${t.name} (${t.id})`).join(', ') || 'none';
      throw new VendorError(`livevox setTermCode: no term code '${wanted}' in service ${serviceId}; have: ${have}`, 'livevox setTermCode', false);
    }
    return code;
  }
}
