/** Read-only catalogue (term codes, phonebooks) and the contact manager. */
import { LvCode, type TermCodesResponse, type WirePhoneBook } from '../wire.js';
import { SimError, type ContactRecord } from './records.js';
import type { SimState } from './state.js';

export const DEFAULT_CATEGORY = 'Virtual Agent';

export function termCodes(st: SimState, serviceId: string): TermCodesResponse {
  const categories = new Map<string, TermCodesResponse['termCodeCategories'][number]>();
  for (const t of st.service(serviceId).termCodes) {
    const name = t.category ?? DEFAULT_CATEGORY;
    let cat = categories.get(name);
    if (!cat) categories.set(name, (cat = { name, termCodes: [] }));
    cat.termCodes.push({ id: t.id, name: t.name, lvResult: t.lvResult ?? t.name, actionType: 'NONE' });
  }
  return { termCodeCategories: [...categories.values()] };
}

export function phoneBooks(st: SimState, serviceId: string): WirePhoneBook[] {
  return st.service(serviceId).phonebooks.map((b) => ({
    phoneBookId: b.id,
    name: b.name,
    contacts: b.contacts.map((c) => ({ phoneBookContactId: c.id, contactName: c.name, phoneNumber: c.phoneNumber })),
  }));
}

/** PUT /contact/contacts/{account}: the contact must exist (calls with an account create one). */
export function updateContact(st: SimState, account: string, fields: Record<string, string>): ContactRecord {
  const c = st.contactMap.get(account);
  if (!c) throw new SimError(404, LvCode.notFound, `contact '${account}' not found (create it with POST /contact/contacts)`);
  Object.assign(c.fields, fields);
  c.updatedAt = st.now();
  c.updates++;
  return structuredClone(c);
}

/** POST /contact/contacts: a new contact; an existing account is refused. */
export function createContact(st: SimState, account: string, fields: Record<string, string>): ContactRecord {
  if (st.contactMap.has(account)) throw new SimError(409, LvCode.contactExists, `contact '${account}' already exists (update it with PUT /contact/contacts/${account})`);
  const now = st.now();
  const c: ContactRecord = { account, fields: { ...fields }, createdAt: now, updatedAt: now, updates: 0 };
  st.contactMap.set(account, c);
  return structuredClone(c);
}
