/** Prometheus text exposition (format 0.0.4) of what the gateway counts. */
export interface MetricsSource {
  gateway: string;
  activeCalls: number;
  draining: boolean;
  answered: number;
  /** Final media counters summed over ended calls. */
  callMedia?: { packetsIn: number; packetsOut: number; dtmfIn: number; dtmfOut: number; engineFramesIn: number; engineFramesOut: number };
  ended: Map<string, number>;
  refusals: Map<number, number>;
  sip: {
    requestsIn: Map<string, number>;
    responsesOut: Map<number, number>;
    responsesIn: Map<number, number>;
    parseErrors: number;
    framingErrors: number;
    transactionsCreated: number;
    transactionsActive: number;
    transactionTimeouts: number;
    retransmissionsAbsorbed: number;
    untrustedDropped: number;
    untrustedRejected: number;
    rateLimited: number;
    tcpClosed: Map<string, number>;
  };
  /** Faults contained by the fault boundary, by where (src/util/faults.ts). */
  internalErrors: Map<string, number>;
  agents: Record<string, number>;
  rtpPortsInUse: number;
  rtpPortsFree: number;
  mediaSessions: number;
  mediaWorkerRestarts: number;
  wrapUp?: { confirmed: number; retries: number; failures: number; rejected: number; reconciled: number; pending: number };
  /** Overload: calls refused early by signal, and the signals now (src/call/overload.ts). */
  overload?: { shed: Map<string, number>; callsInSetup: number; eventLoopDelayMs: number; eventLoopUtilizationPercent: number; shedShare: number; mediaLatenessMs: number; oldestWrapUpSeconds: number; readyGate?: { limit: number; waiting: number; held: number } };
  /** The gateway process: memory and open file descriptors (for soak runs and leaks). */
  process?: { rss: number; heapUsed: number; openFds: number | null };
  /** Per platform: its link's counters (requests, failures, timeouts, reconnects, ignored messages). */
  contactCenters?: Record<string, Record<string, number>>;
}

type Sample = [labels: Record<string, string | number>, value: number];

function family(out: string[], name: string, type: 'counter' | 'gauge', help: string, samples: Sample[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, v] of samples) {
    const l = Object.entries(labels)
      .map(([k, val]) => `${k}="${String(val).replace(/["\\\n]/g, '_')}"`)
      .join(',');
    out.push(`${name}${l ? `{${l}}` : ''} ${v}`);
  }
}

const fromMap = <K>(m: Map<K, number>, label: string): Sample[] => [...m].map(([k, v]) => [{ [label]: String(k) }, v]);

export function renderMetrics(s: MetricsSource): string {
  const o: string[] = [];
  family(o, 'vagw_calls_active', 'gauge', 'Calls in progress.', [[{}, s.activeCalls]]);
  family(o, 'vagw_calls_answered_total', 'counter', 'Calls answered with 200 OK.', [[{}, s.answered]]);
  if (s.process) {
    family(o, 'vagw_process_resident_memory_bytes', 'gauge', 'Resident set size of the gateway process.', [[{}, s.process.rss]]);
    family(o, 'vagw_process_heap_used_bytes', 'gauge', "V8 heap in use in the gateway's main thread.", [[{}, s.process.heapUsed]]);
    if (s.process.openFds !== null) family(o, 'vagw_process_open_fds', 'gauge', 'Open file descriptors of the gateway process (sockets included).', [[{}, s.process.openFds]]);
  }
  if (s.overload) {
    const v = s.overload;
    family(o, 'vagw_overload_shed_total', 'counter', 'Calls refused early (503 + Retry-After) because a headroom signal was over its limit, by signal.', fromMap(v.shed, 'signal'));
    family(o, 'vagw_calls_in_setup', 'gauge', 'Calls routed and not yet answered or refused.', [[{}, v.callsInSetup]]);
    family(o, 'vagw_event_loop_delay_p99_seconds', 'gauge', "p99 of the main thread's event-loop delay over the last 500 ms window.", [[{}, v.eventLoopDelayMs / 1000]]);
    family(o, 'vagw_event_loop_utilization', 'gauge', "Share of the last 500 ms window the main thread's event loop was busy (0..1).", [[{}, v.eventLoopUtilizationPercent / 100]]);
    if (v.readyGate) {
      const g = v.readyGate;
      family(o, 'vagw_ready_gate_limit', 'gauge', 'Calls up plus agents offered (Ready) the gateway allows now; the number of agents when there is no cap (src/call/ready-gate.ts).', [[{}, g.limit]]);
      family(o, 'vagw_ready_gate_waiting', 'gauge', 'Readys held back at the overload gate now.', [[{}, g.waiting]]);
      family(o, 'vagw_ready_gate_held_total', 'counter', 'Readys that waited at the overload gate.', [[{}, g.held]]);
    }
    family(o, 'vagw_overload_shed_share', 'gauge', 'Share of new calls refused for overload now (0..1).', [[{}, v.shedShare]]);
    family(o, 'vagw_media_tick_lateness_max_seconds', 'gauge', "The media workers' worst 20 ms tick lateness in their last 500 ms window.", [[{}, v.mediaLatenessMs / 1000]]);
    family(o, 'vagw_wrapup_oldest_pending_seconds', 'gauge', 'Age of the oldest wrap-up step not yet confirmed by the contact center (a stuck step shows here).', [[{}, v.oldestWrapUpSeconds]]);
  }
  if (s.callMedia) {
    const m = s.callMedia;
    family(o, 'vagw_call_rtp_packets_total', 'counter', "RTP packets of ended calls by direction (in: from the caller), from the media plane's final counters.", [[{ direction: 'in' }, m.packetsIn], [{ direction: 'out' }, m.packetsOut]]);
    family(o, 'vagw_call_dtmf_digits_total', 'counter', 'DTMF digits of ended calls by direction (in: from the caller).', [[{ direction: 'in' }, m.dtmfIn], [{ direction: 'out' }, m.dtmfOut]]);
    family(o, 'vagw_call_engine_frames_total', 'counter', 'Audio frames exchanged with engines in ended calls by direction (in: from the engine).', [[{ direction: 'in' }, m.engineFramesIn], [{ direction: 'out' }, m.engineFramesOut]]);
  }
  family(o, 'vagw_calls_ended_total', 'counter', 'Calls ended, by reason.', fromMap(s.ended, 'reason'));
  family(o, 'vagw_invites_refused_total', 'counter', 'INVITEs refused, by SIP status.', fromMap(s.refusals, 'code'));
  family(o, 'vagw_draining', 'gauge', '1 while the gateway drains for shutdown.', [[{}, s.draining ? 1 : 0]]);
  family(o, 'vagw_sip_requests_received_total', 'counter', 'SIP requests received, by method.', fromMap(s.sip.requestsIn, 'method'));
  family(o, 'vagw_sip_responses_sent_total', 'counter', 'SIP responses sent (retransmissions included), by code.', fromMap(s.sip.responsesOut, 'code'));
  family(o, 'vagw_sip_responses_received_total', 'counter', 'SIP responses received, by code.', fromMap(s.sip.responsesIn, 'code'));
  family(o, 'vagw_sip_parse_errors_total', 'counter', 'SIP messages that could not be parsed.', [[{}, s.sip.parseErrors]]);
  family(o, 'vagw_sip_framing_errors_total', 'counter', 'TCP connections closed because the stream could not be framed.', [[{}, s.sip.framingErrors]]);
  family(o, 'vagw_sip_transactions_active', 'gauge', 'SIP transactions alive.', [[{}, s.sip.transactionsActive]]);
  family(o, 'vagw_sip_transactions_total', 'counter', 'SIP transactions created.', [[{}, s.sip.transactionsCreated]]);
  family(o, 'vagw_sip_transaction_timeouts_total', 'counter', 'SIP transactions that timed out.', [[{}, s.sip.transactionTimeouts]]);
  family(o, 'vagw_sip_retransmissions_absorbed_total', 'counter', 'Retransmitted requests absorbed by a transaction.', [[{}, s.sip.retransmissionsAbsorbed]]);
  family(o, 'vagw_sip_untrusted_dropped_total', 'counter', 'SIP messages and TCP connections from untrusted sources, ignored.', [[{}, s.sip.untrustedDropped]]);
  family(o, 'vagw_sip_untrusted_rejected_total', 'counter', 'SIP requests from untrusted sources answered 403 (edge.untrusted: reject).', [[{}, s.sip.untrustedRejected]]);
  family(o, 'vagw_sip_rate_limited_total', 'counter', 'SIP messages dropped unread: their source exceeded edge.perSourceRequestsPerSecond.', [[{}, s.sip.rateLimited]]);
  family(o, 'vagw_sip_tcp_closed_total', 'counter', 'TCP connections closed by a limit, by limit.', fromMap(s.sip.tcpClosed, 'limit'));
  family(o, 'vagw_internal_errors_total', 'counter', 'Internal errors contained (logged, answered where possible) without stopping the process, by where.', fromMap(s.internalErrors, 'where'));
  family(o, 'vagw_agents', 'gauge', 'Virtual agents by state.', Object.entries(s.agents).map(([k, v]) => [{ state: k }, v]));
  family(o, 'vagw_rtp_port_pairs', 'gauge', 'RTP port pairs by use.', [[{ use: 'in-use' }, s.rtpPortsInUse], [{ use: 'free' }, s.rtpPortsFree]]);
  family(o, 'vagw_media_sessions', 'gauge', 'Media sessions open in the media workers.', [[{}, s.mediaSessions]]);
  family(o, 'vagw_media_worker_restarts_total', 'counter', 'Media worker threads that died and were replaced.', [[{}, s.mediaWorkerRestarts]]);
  if (s.wrapUp) {
    family(o, 'vagw_wrapup_steps_confirmed_total', 'counter', 'Wrap-up steps (term code, contact, Ready) confirmed by the contact center.', [[{}, s.wrapUp.confirmed]]);
    family(o, 'vagw_wrapup_retries_total', 'counter', 'Wrap-up step attempts that failed and were retried.', [[{}, s.wrapUp.retries]]);
    family(o, 'vagw_wrapup_failures_total', 'counter', 'Times an agent was taken NotReady because its wrap-up kept failing.', [[{}, s.wrapUp.failures]]);
    family(o, 'vagw_wrapup_steps_rejected_total', 'counter', 'Wrap-up steps the contact center refused for good (reported and skipped).', [[{}, s.wrapUp.rejected]]);
    family(o, 'vagw_wrapup_term_codes_reconciled_total', 'counter', 'Refused term codes set after all with the ids of the agent status.', [[{}, s.wrapUp.reconciled]]);
    family(o, 'vagw_wrapup_steps_pending', 'gauge', 'Wrap-up steps in the durable outbox, not yet confirmed.', [[{}, s.wrapUp.pending]]);
  }
  if (s.contactCenters && Object.keys(s.contactCenters).length) {
    const samples: Sample[] = Object.entries(s.contactCenters).flatMap(([vendor, c]) => Object.entries(c).map(([kind, v]): Sample => [{ vendor, kind }, v]));
    family(o, 'vagw_contact_center_events_total', 'counter', 'Contact-center link events by platform: requests, failure answers, timeouts, reconnects, messages ignored (malformed, unknown, another session, no pending request).', samples);
  }

  return o.join('\n') + '\n';
}
