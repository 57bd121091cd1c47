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

  inc<K>(m: Map<K, number>, k: K): void {
    m.set(k, (m.get(k) ?? 0) + 1);
  }
}
