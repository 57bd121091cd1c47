/**
 * What the simulator's own records say about the calls of one step (GET /__sim/state): term codes
 * per call, who ended each call, and, from each agent's state history, when the agent was READY
 * again. All times here are the simulator's clock (Date.now in the gateway process, the same
 * system clock as the bench's).
 */

/** The parts of the simulator's SimSnapshot the bench reads (src/vendors/livevox/simulator/state.ts). */
export interface Snapshot {
  now: number;
  agents: { user: string; state: string; stateChangedTime: number; currentCall?: string; lastCall?: string; history: { state: string; at: number }[] }[];
  calls: {
    transactionId: string;
    agentUser: string;
    startedAt: number;
    status: string;
    endedAt?: number;
    endedBy?: string;
    termCodes: { termCodeName: string; at: number; moveAgentToNotReady: boolean }[];
    termCodeRefusals: number;
  }[];
  requests: Record<string, number>;
}

export interface Dist {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export function dist(values: number[]): Dist {
  if (values.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  return { count: s.length, p50: at(50), p90: at(90), p99: at(99), max: s[s.length - 1]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export interface StepRecords {
  /** Calls the bench placed in the step. */
  placed: number;
  /** ... that the simulator no longer holds (it keeps 10 000 call records). */
  missing: number;
  notEnded: number;
  endedByAgent: number;
  termCodes: { exactlyOne: number; none: number; several: number; byName: Record<string, number>; refusals: number };
  /** Calls whose READY could not be found in the agent's history (history holds the last 200 changes). */
  readyUnknown: number;
  /** Simulator clock: call routed (placer sends the INVITE) -> agent READY again; includes the talk time. */
  inviteToReady: Dist;
  /** Simulator clock: customer hung up (placer sends BYE) -> agent READY again: the wrap-up through the gateway. */
  hangupToReady: Dist;
  /** Simulator clock: hang-up -> term code recorded. */
  hangupToTermCode: Dist;
  /** Bench clock before POST /__sim/calls -> the simulator's startedAt: how long the admin request took to arrive. */
  postToStart: Dist;
  /** READY -> the agent's next call (the driver's polling slack), ms. */
  readyToNextCall: Dist;
  /** Calls ended by the agent's side (the gateway refused or dropped the leg): how long after the agent turned READY they were routed. */
  failedAfterReady: Dist;
  /** Calls whose agent was READY again inside [w0, w1]. */
  completedInWindow: number;
  /** Goodput: answered calls the customer ended (the good term code) whose agent was READY again inside [w0, w1]. */
  goodInWindow: number;
  /** Calls the gateway refused (the refusal's term code): shed for overload. */
  shed: number;
  /** Calls the simulator routed inside [w0, w1]. */
  startedInWindow: number;
  /** Agents not READY in this snapshot, with state. */
  notReady: { user: string; state: string; since: number; currentCall?: string; lastCall?: string }[];
  examples: string[];
}

export interface PlacedRef {
  tid: string;
  agent: string;
  postAt: number;
}

/** The first READY in the agent's history at or after `from`; null if it is not there (or the history starts later). */
function readyAfter(history: { state: string; at: number }[], from: number): number | null | 'truncated' {
  if (history.length > 0 && history[0]!.at > from) return 'truncated';
  for (const h of history) if (h.at >= from && h.state === 'READY') return h.at;
  return null;
}

export function analyzeStep(snap: Snapshot, placed: PlacedRef[], w0: number, w1: number, names = { good: 'Caller Hung Up', shed: '' }): StepRecords {
  const calls = new Map(snap.calls.map((c) => [c.transactionId, c]));
  const agents = new Map(snap.agents.map((a) => [a.user, a]));
  const r: StepRecords = {
    placed: placed.length,
    missing: 0,
    notEnded: 0,
    endedByAgent: 0,
    termCodes: { exactlyOne: 0, none: 0, several: 0, byName: {}, refusals: 0 },
    readyUnknown: 0,
    inviteToReady: dist([]),
    hangupToReady: dist([]),
    hangupToTermCode: dist([]),
    postToStart: dist([]),
    readyToNextCall: dist([]),
    failedAfterReady: dist([]),
    completedInWindow: 0,
    goodInWindow: 0,
    shed: 0,
    startedInWindow: 0,
    notReady: [],
    examples: [],
  };
  const inviteToReady: number[] = [];
  const hangupToReady: number[] = [];
  const hangupToTc: number[] = [];
  const postToStart: number[] = [];
  const readyToNext: number[] = [];
  const failedAfterReady: number[] = [];
  const readyOf = new Map<string, number>();
  const example = (t: string): void => void (r.examples.length < 10 && r.examples.push(t));
  for (const p of placed) {
    const c = calls.get(p.tid);
    if (!c) {
      r.missing++;
      example(`${p.tid} (${p.agent}): not in the simulator's records`);
      continue;
    }
    postToStart.push(c.startedAt - p.postAt);
    if (c.startedAt >= w0 && c.startedAt <= w1) r.startedInWindow++;
    if (c.status !== 'ended' || c.endedAt === undefined) {
      r.notEnded++;
      example(`${p.tid} (${p.agent}): status ${c.status}`);
    } else if (names.shed && c.termCodes.length === 1 && c.termCodes[0]!.termCodeName === names.shed) {
      // Refused (503) for overload: the placer's leg failed, or the customer's hang-up came first.
      r.shed++;
    } else if (c.endedBy !== 'customer') {
      r.endedByAgent++;
      const before = agents.get(c.agentUser)?.history.filter((h) => h.state === 'READY' && h.at <= c.startedAt).pop();
      if (before) failedAfterReady.push(c.startedAt - before.at);
      example(`${p.tid} (${p.agent}): ended by ${c.endedBy} ${c.endedAt - c.startedAt} ms after it was routed, before the customer hung up` +
        `${before ? `; routed ${c.startedAt - before.at} ms after the agent turned READY` : ''}`);
    }
    r.termCodes.refusals += c.termCodeRefusals;
    if (c.termCodes.length === 1) r.termCodes.exactlyOne++;
    else if (c.termCodes.length === 0) {
      r.termCodes.none++;
      example(`${p.tid} (${p.agent}): no term code`);
    } else {
      r.termCodes.several++;
      example(`${p.tid} (${p.agent}): ${c.termCodes.length} term codes (${c.termCodes.map((t) => t.termCodeName).join(', ')})`);
    }
    for (const t of c.termCodes) r.termCodes.byName[t.termCodeName] = (r.termCodes.byName[t.termCodeName] ?? 0) + 1;
    if (c.endedAt !== undefined && c.termCodes[0]) hangupToTc.push(c.termCodes[0].at - c.endedAt);
    const agent = agents.get(c.agentUser);
    const ready = agent ? readyAfter(agent.history, c.endedAt ?? c.startedAt) : null;
    if (typeof ready !== 'number') {
      r.readyUnknown++;
      if (ready === null) example(`${p.tid} (${c.agentUser}): the agent was not READY again after the call`);
      continue;
    }
    readyOf.set(p.tid, ready);
    inviteToReady.push(ready - c.startedAt);
    if (c.endedAt !== undefined) hangupToReady.push(ready - c.endedAt);
    if (ready >= w0 && ready <= w1) {
      r.completedInWindow++;
      if (c.endedBy === 'customer' && c.termCodes.length === 1 && c.termCodes[0]!.termCodeName === names.good) r.goodInWindow++;
    }
  }
  // READY -> the same agent's next call of the step: how long the driver left a free agent idle.
  const byAgent = new Map<string, { ready: number | undefined; started: number }[]>();
  for (const p of placed) {
    const c = calls.get(p.tid);
    if (!c) continue;
    const list = byAgent.get(p.agent) ?? [];
    list.push({ ready: readyOf.get(p.tid), started: c.startedAt });
    byAgent.set(p.agent, list);
  }
  for (const list of byAgent.values()) {
    list.sort((a, b) => a.started - b.started);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!.ready;
      if (prev !== undefined) readyToNext.push(list[i]!.started - prev);
    }
  }
  r.inviteToReady = dist(inviteToReady);
  r.hangupToReady = dist(hangupToReady);
  r.hangupToTermCode = dist(hangupToTc);
  r.postToStart = dist(postToStart);
  r.readyToNextCall = dist(readyToNext);
  r.failedAfterReady = dist(failedAfterReady);
  for (const a of snap.agents) {
    if (a.state !== 'READY') r.notReady.push({ user: a.user, state: a.state, since: a.stateChangedTime, ...(a.currentCall ? { currentCall: a.currentCall } : {}), ...(a.lastCall ? { lastCall: a.lastCall } : {}) });
  }
  return r;
}

/** Every term code must be for a call that ended, exactly once: true when the step's calls are all accounted for. */
export function settled(snap: Snapshot, tids: Set<string>): boolean {
  if (snap.agents.some((a) => a.state !== 'READY')) return false;
  for (const c of snap.calls) if (tids.has(c.transactionId) && (c.status !== 'ended' || c.termCodes.length === 0)) return false;
  return true;
}
