/**
 * The state that identifies a dialog and addresses its requests (RFC 3261 §12.1), derived for
 * either role. Everything after creation (§12.2) is the same for both, so `Dialog` keeps one code
 * path and only its construction differs.
 */
import { parseCSeq, parseNameAddr } from './grammar.js';
import type { SipRequest, SipResponse } from './message.js';

export type DialogRole = 'uas' | 'uac';

export interface DialogState {
  role: DialogRole;
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  routeSet: string[];
  /** Undefined until we send our first request (UAS, §12.1.1). */
  localSeq: number | undefined;
  /** Undefined until the peer sends its first in-dialog request (UAC, §12.1.2). */
  remoteSeq: number | undefined;
  /** Whether the peer advertised UPDATE (RFC 3311), for session refreshes (RFC 4028 §7.2). */
  peerAllowsUpdate: boolean;
}

function allowsUpdate(m: SipRequest | SipResponse): boolean {
  return m.headers.getAll('Allow').some((x) => x.toUpperCase() === 'UPDATE');
}

/**
 * §12.1.1 (we answered `invite`): route set = Record-Route in order, remote target = the INVITE's
 * Contact, remote CSeq = the INVITE's, local CSeq empty.
 */
export function uasState(invite: SipRequest, localTag: string): DialogState {
  const h = invite.headers;
  const from = parseNameAddr(h.get('From')!);
  const contact = h.get('Contact');
  return {
    role: 'uas',
    callId: h.get('Call-ID')!,
    localTag,
    remoteTag: from.params['tag'] ?? '',
    localUri: parseNameAddr(h.get('To')!).uri,
    remoteUri: from.uri,
    remoteTarget: contact ? parseNameAddr(contact).uri : from.uri,
    routeSet: h.getAll('Record-Route'),
    localSeq: undefined,
    remoteSeq: parseCSeq(h.get('CSeq')!).seq,
    peerAllowsUpdate: allowsUpdate(invite),
  };
}

/**
 * §12.1.2 (our `invite` got the 2xx `ok`): route set = the 2xx's Record-Route in reverse order,
 * remote target = the 2xx's Contact, remote tag = its To tag, local CSeq = the INVITE's, remote
 * CSeq empty.
 */
export function uacState(invite: SipRequest, ok: SipResponse): DialogState {
  const h = invite.headers;
  const to = parseNameAddr(ok.headers.get('To')!);
  const contact = ok.headers.get('Contact');
  return {
    role: 'uac',
    callId: h.get('Call-ID')!,
    localTag: parseNameAddr(h.get('From')!).params['tag'] ?? '',
    remoteTag: to.params['tag'] ?? '',
    localUri: parseNameAddr(h.get('From')!).uri,
    remoteUri: parseNameAddr(h.get('To')!).uri,
    // A 2xx without Contact breaks §12.1.2; the Request-URI is the best remaining target.
    remoteTarget: contact ? parseNameAddr(contact).uri : invite.uri,
    routeSet: ok.headers.getAll('Record-Route').reverse(),
    localSeq: parseCSeq(h.get('CSeq')!).seq,
    remoteSeq: undefined,
    peerAllowsUpdate: allowsUpdate(ok),
  };
}

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}
