/**
 * Addressing in-dialog requests (RFC 3261 §12.2.1.1) and finding their next hop (§8.1.2), for
 * either dialog role.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DialogState } from './dialog-state.js';
import { parseNameAddr, parseUri } from './grammar.js';
import { newRequest, SipHeaders, type SipRequest } from './message.js';
import { newBranch } from './response.js';
import type { Destination, Flow, TransportName } from './transport/types.js';

/**
 * Request-URI and Route headers from the route set and remote target (§12.2.1.1), plus From, To
 * and Call-ID. With a strict-routing first hop (no `lr`) the first route becomes the Request-URI
 * and the remote target goes last.
 */
export function dialogHeaders(d: DialogState, ownRoute?: (route: string) => boolean): { uri: string; headers: SipHeaders } {
  const h = new SipHeaders();
  let uri = d.remoteTarget;
  const routes = [...d.routeSet];
  while (routes.length > 0 && ownRoute?.(routes[0]!)) routes.shift();
  const first = routes[0];
  if (first !== undefined && !('lr' in parseUri(parseNameAddr(first).uri).params)) {
    uri = parseNameAddr(first).uri;
    routes.shift();
    routes.push(`<${d.remoteTarget}>`);
  }
  for (const r of routes) h.add('Route', r);
  h.add('From', `<${d.localUri}>;tag=${d.localTag}`);
  h.add('To', `<${d.remoteUri}>;tag=${d.remoteTag}`);
  h.add('Call-ID', d.callId);
  return { uri, headers: h };
}

/**
 * The ACK for a 2xx (§13.2.2.4): a request of its own within the dialog, CSeq number of the
 * INVITE it acknowledges. Its Via is written by `stampVia` once the next hop is known.
 */
export function buildAck(d: DialogState, inviteSeq: number, ownRoute?: (route: string) => boolean): SipRequest {
  const { uri, headers } = dialogHeaders(d, ownRoute);
  headers.add('CSeq', `${inviteSeq} ACK`);
  headers.add('Max-Forwards', '70');
  return newRequest('ACK', uri, headers);
}

/** Top Via for a request sent outside a transaction (ACK for 2xx), with rport (RFC 3581). */
export function stampVia(req: SipRequest, transport: TransportName, host: string, port: number): void {
  const h = host.includes(':') ? `[${host}]` : host;
  req.headers.prepend('Via', `SIP/2.0/${transport.toUpperCase()} ${h}:${port};branch=${newBranch()};rport`);
}

/**
 * Next hop per §8.1.2 / RFC 3263 §4 (numeric hosts or A/AAAA lookup; no NAPTR/SRV): the first
 * route when there is a route set (loose or strict, it is the first element either way), else
 * the remote target. `flow` is the path the dialog was set up on.
 */
export async function nextHop(d: DialogState, flow: Flow): Promise<Destination> {
  const first = d.routeSet[0];
  const target = parseUri(first !== undefined ? parseNameAddr(first).uri : d.remoteTarget);
  // A `.invalid` host (RFC 6761 §6.4) is what WebSocket clients such as SIP.js put in their
  // Contact (RFC 7118 §5): they are reachable only over the connection they opened.
  if (first === undefined && target.host.endsWith('.invalid') && flow.connectionId !== undefined) {
    return { transport: flow.transport, address: flow.remote.address, port: flow.remote.port, connectionId: flow.connectionId };
  }
  const tp = target.params['transport']?.toLowerCase();
  const transport: TransportName = tp === 'tcp' || tp === 'udp' ? tp : flow.transport;
  const address = isIP(target.host) ? target.host : (await lookup(target.host)).address;
  const dest: Destination = { transport, address, port: target.port ?? 5060 };
  // Reuse the connection the peer opened when the next hop is that peer (flow reuse).
  if (transport !== 'udp' && flow.connectionId !== undefined && address === flow.remote.address) {
    dest.connectionId = flow.connectionId;
  }
  return dest;
}
