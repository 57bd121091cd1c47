/** Plain counters the stack keeps; the API layer exports them (src/sip depends on no metrics library). */
export class SipStats {
  requestsIn = new Map<string, number>();
  responsesOut = new Map<number, number>();
  responsesIn = new Map<number, number>();
  parseErrors = 0;
  framingErrors = 0;
  transactionsCreated = 0;
  transactionsActive = 0;
  transactionTimeouts = 0;
  retransmissionsAbsorbed = 0;
  /** Messages (or TCP connections) from sources outside the trusted networks, not answered. */
  untrustedDropped = 0;
  /** Requests from untrusted sources answered 403 (profile set to answer them). */
  untrustedRejected = 0;
  /** Messages dropped unread because their source exceeded its rate. */
  rateLimited = 0;
  /** TCP connections the transport closed, by limit (per-source cap, total cap, message deadline, idle). */
  tcpClosed = new Map<string, number>();

  inc<K>(m: Map<K, number>, k: K): void {
    m.set(k, (m.get(k) ?? 0) + 1);
  }
}
