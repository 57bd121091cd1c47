/**
 * The transport rules of RFC 3261 that need no socket: where a response goes (§18.2.2) and which
 * server transaction a request belongs to (§17.2.3).
 */
import { parseCSeq, parseVia, tagOf } from './grammar.js';
import type { SipRequest, SipResponse } from './message.js';
import { MAGIC_COOKIE } from './response.js';
import type { Address, Flow } from './transport/types.js';

/** §18.2.2 for unreliable transports: `received` host, `rport` port, else the sent-by. */
export function responseTarget(res: SipResponse, flow: Flow): Address {
  const via = parseVia(res.headers.getAll('Via')[0]!);
  const rport = via.params['rport'];
  const maddr = via.params['maddr'];
  if (maddr) return { address: maddr, port: via.port ?? 5060 };
  return {
    address: via.params['received'] ?? via.host ?? flow.remote.address,
    port: rport ? Number(rport) : via.port ?? 5060,
  };
}

/**
 * Server transaction key (§17.2.3). With an RFC 3261 branch: branch + sent-by + method (ACK maps
 * to INVITE), plus the Call-ID and CSeq number, which a retransmission, its CANCEL and its ACK all
 * share (§9.1, §17.1.1.3): a peer that reuses a branch for another request (RFC 4475's messages
 * do) gets that request answered, not the old one's response resent. Without an RFC 3261 branch
 * (RFC 2543 peers): Call-ID, CSeq number, From tag and top Via.
 */
export function serverKey(req: SipRequest, method: string): string {
  const top = req.headers.getAll('Via')[0] ?? '';
  const via = parseVia(top);
  const sentBy = `${via.host}:${via.port ?? ''}`;
  const branch = via.params['branch'];
  const cseq = parseCSeq(req.headers.get('CSeq')!).seq;
  if (branch && branch.startsWith(MAGIC_COOKIE)) return `${branch}|${sentBy}|${method}|${req.headers.get('Call-ID')}|${cseq}`;
  return `2543|${req.headers.get('Call-ID')}|${cseq}|${tagOf(req.headers.get('From'))}|${sentBy}|${method}`;
}

/** The Call-ID of raw bytes, for a fault's log line (best effort: the bytes may not parse). */
export function callIdOf(data: Buffer): string | undefined {
  const m = /^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]{1,200})/im.exec(data.toString('latin1', 0, Math.min(data.length, 8192)));
  return m?.[1]?.trim();
}
