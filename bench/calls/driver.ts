/**
 * The calls bench's driver: one loop per busy agent, through the simulator's admin API.
 *
 *   POST /__sim/calls {agent, call: {transactionId}}   LiveVox routes a customer to the agent; the
 *                                                      in-process placer sends the INVITE (+ RTP tone)
 *   ... talkMs later ...
 *   POST /__sim/calls/end {transactionId, by: customer} the customer hangs up; the placer BYEs the
 *                                                      gateway, which sets the term code and Ready
 *   POST /__sim/calls again                             as soon as the agent is READY again
 *
 * How the driver learns that the agent is READY again (the /__sim/state snapshot is far too large
 * to poll at this rate):
 * - 'route' (the default, what LiveVox does with customers waiting in queue): it asks for the next
 *   call and takes 409 "agent ... is WRAPUP, not READY" as "not yet", so the call is routed within
 *   a few ms of the agent turning READY. The first attempt comes 0.8x the recent hang-up -> next
 *   call time after the hang-up, then every ewma/4 ms (5..50 ms).
 * - 'status' (diagnostic, BENCH_CALLS_ROUTE_DELAY_MS): it polls the agent's line through the
 *   LiveVox API (POST /callControl/agent/status with the agent's own session; the simulator hands
 *   the bench the session the gateway already holds) at the same pace, and routes the call only
 *   `routeDelayMs` after the line's stateChangedTime to READY: a contact center that waits that
 *   long before it routes to an agent that just became Ready.
 * "Not READY yet" answers are counted as probes, not failures. After 2 s without READY since its
 * hang-up an agent is polled only every 500 ms (it is most likely stuck). The timings the report
 * uses come from the simulator's own records (call.startedAt, endedAt, the agent's state history).
 */
import { isReset, type HttpAnswer, type HttpClient } from './http.js';

export interface PlacedCall {
  tid: string;
  agent: string;
  /** Busy agents of the step that placed it. */
  step: number;
  /** Bench clock (epoch ms) just before POST /__sim/calls, and when its 201 came back. */
  postAt: number;
  postDoneAt: number;
  /** The simulator's CallRecord.startedAt (its clock: Date.now in the gateway process). */
  startedAt: number;
  /** Bench clock just before POST /__sim/calls/end. */
  endAt?: number;
  /** Who the simulator says ended the call, per the answer to our end request. */
  endedBy?: string;
  endStatus?: number;
}

export interface DriverStats {
  placed: number;
  /** "Not READY yet" answers (409 to POST /__sim/calls, or a status line not READY), by the state named. */
  probes: number;
  probeStates: Record<string, number>;
  /** LiveVox API requests the bench itself made ('status' mode): logins and status polls. */
  lvRequests: Record<string, number>;
  /** Anything else: transport errors, other statuses, a failed end request. */
  errorCount: number;
  errors: string[];
  /** Our hang-up found the call already ended by the agent's side (the placer's leg failed or the gateway hung up). */
  endedByAgent: number;
}

export interface DriverOptions {
  talkMs: number;
  /** At most this many calls per step (the simulator keeps 10 000 call records). */
  capCalls: number;
  /** null: 'route' mode. A number: 'status' mode, routing this many ms after the agent turned READY. */
  routeDelayMs: number | null;
  /** For 'status' mode: how the bench logs in as an agent. */
  lv: { accessToken: string; clientName: string; password: string };
}

export interface StepRun {
  readonly calls: PlacedCall[];
  readonly stats: DriverStats;
  /** Resolves when the cap was reached (no new calls placed after that). */
  readonly capped: Promise<void>;
  /** Stop placing; resolves once every loop has hung up its last call. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const STUCK_AFTER_MS = 2000;
const STUCK_POLL_MS = 500;

export class Driver {
  private seq = 0;
  /** Recent hang-up -> next call placed, as the driver saw it (ms). */
  private ewmaMs = 20;
  private readonly sessions = new Map<string, string>();

  constructor(
    private readonly sim: HttpClient,
    private readonly opts: DriverOptions,
  ) {}

  private async login(agent: string, stats: DriverStats): Promise<string> {
    stats.lvRequests['POST /session/login'] = (stats.lvRequests['POST /session/login'] ?? 0) + 1;
    const r = await this.sim.send('POST', '/session/login', { clientName: this.opts.lv.clientName, userName: agent, password: this.opts.lv.password, agent: true }, { 'LV-Access': this.opts.lv.accessToken });
    if (r.status !== 200) throw new Error(`login ${agent} -> ${r.status} ${r.text.slice(0, 200)}`);
    const sid = (JSON.parse(r.text) as { sessionId: string }).sessionId;
    this.sessions.set(agent, sid);
    return sid;
  }

  /** The agent's ACD line through the LiveVox API. */
  private async line(agent: string, stats: DriverStats): Promise<{ state: string; at: number }> {
    for (let attempt = 0; ; attempt++) {
      const sid = this.sessions.get(agent) ?? (await this.login(agent, stats));
      stats.lvRequests['POST /callControl/agent/status'] = (stats.lvRequests['POST /callControl/agent/status'] ?? 0) + 1;
      const r = await this.sim.send('POST', '/callControl/agent/status', {}, { 'LV-Session': sid });
      if (r.status === 401 && attempt === 0) {
        this.sessions.delete(agent);
        continue;
      }
      if (r.status !== 200) throw new Error(`status ${agent} -> ${r.status} ${r.text.slice(0, 200)}`);
      const line = (JSON.parse(r.text) as { agentStatus: { lines: { state: string; stateChangedTime: number }[] } }).agentStatus.lines[0]!;
      return { state: line.state, at: line.stateChangedTime };
    }
  }

  /**
   * POST /__sim/calls; after a connection reset, once more with the same transaction id. If the
   * first request did route the call (its answer was lost), the simulator answers 409 "agent ... is
   * INCALL" (or "call ... already exists"): only this loop routes calls to this agent, so the call
   * on its line is ours, and it is taken as routed (and hung up after the talk time like any other).
   */
  private async route(agent: string, tid: string, postAt: number): Promise<HttpAnswer> {
    const body = { agent, call: { transactionId: tid } };
    try {
      return await this.sim.request('POST', '/__sim/calls', body);
    } catch (e) {
      if (!isReset(e)) throw e;
      this.sim.resets++;
      const again = await this.sim.request('POST', '/__sim/calls', body);
      if (again.status === 409 && /already exists|is INCALL, not READY/.test(again.text)) return { status: 201, text: JSON.stringify({ startedAt: postAt }) };
      return again;
    }
  }

  start(agents: string[], step: number): StepRun {
    const calls: PlacedCall[] = [];
    const stats: DriverStats = { placed: 0, probes: 0, probeStates: {}, lvRequests: {}, errorCount: 0, errors: [], endedByAgent: 0 };
    let stopping = false;
    let capResolve!: () => void;
    const capped = new Promise<void>((r) => (capResolve = r));
    const error = (text: string): void => {
      stats.errorCount++;
      if (stats.errors.length < 20) stats.errors.push(text);
    };
    const probe = (state: string): void => {
      stats.probes++;
      stats.probeStates[state] = (stats.probeStates[state] ?? 0) + 1;
    };
    const routeDelay = this.opts.routeDelayMs;

    const loop = async (agent: string): Promise<void> => {
      let notBefore = 0;
      let lastEndDone: number | null = null;
      // A call the gateway refused (overload: Ready comes back after Retry-After) says nothing about
      // how soon a wrapped-up agent is READY: it must not slow the polling of every loop.
      let lastShed = false;
      const pollInterval = (): number =>
        lastEndDone !== null && Date.now() - lastEndDone > STUCK_AFTER_MS ? STUCK_POLL_MS : Math.max(5, Math.min(50, this.ewmaMs / 4));
      while (!stopping) {
        const wait = notBefore - Date.now();
        if (wait > 0) await sleep(wait);
        if (stopping) break;
        if (calls.length >= this.opts.capCalls) {
          capResolve();
          break;
        }
        if (routeDelay !== null) {
          let line;
          try {
            line = await this.line(agent, stats);
          } catch (e) {
            error(`LiveVox status ${agent}: ${(e as Error).message}`);
            notBefore = Date.now() + 100;
            continue;
          }
          if (line.state !== 'READY') {
            probe(line.state);
            notBefore = Date.now() + pollInterval();
            continue;
          }
          const due = line.at + routeDelay - Date.now();
          if (due > 0) await sleep(due);
          if (stopping) break;
        }
        const tid = `bc${step}-${++this.seq}`;
        const postAt = Date.now();
        let r;
        try {
          r = await this.route(agent, tid, postAt);
        } catch (e) {
          error(`POST /__sim/calls ${agent}: ${(e as Error).message}`);
          notBefore = Date.now() + 100;
          continue;
        }
        if (r.status === 409) {
          probe(/is (\w+), not READY/.exec(r.text)?.[1] ?? 'other');
          notBefore = Date.now() + pollInterval();
          continue;
        }
        if (r.status !== 201) {
          error(`POST /__sim/calls ${agent} -> ${r.status} ${r.text.slice(0, 200)}`);
          notBefore = Date.now() + 100;
          continue;
        }
        const postDoneAt = Date.now();
        if (lastEndDone !== null && !lastShed) this.ewmaMs = 0.9 * this.ewmaMs + 0.1 * (postAt - lastEndDone);
        const rec = JSON.parse(r.text) as { startedAt: number };
        const call: PlacedCall = { tid, agent, step, postAt, postDoneAt, startedAt: rec.startedAt };
        calls.push(call);
        stats.placed++;
        // The call always ends, stopping or not: the customer hangs up after the talk time.
        await sleep(this.opts.talkMs);
        call.endAt = Date.now();
        try {
          const e = await this.sim.send('POST', '/__sim/calls/end', { transactionId: tid, by: 'customer' });
          call.endStatus = e.status;
          if (e.status !== 200) error(`POST /__sim/calls/end ${tid} -> ${e.status} ${e.text.slice(0, 200)}`);
          else {
            call.endedBy = (JSON.parse(e.text) as { endedBy?: string }).endedBy;
            if (call.endedBy !== 'customer') stats.endedByAgent++;
            lastShed = call.endedBy !== 'customer';
          }
        } catch (e) {
          error(`POST /__sim/calls/end ${tid}: ${(e as Error).message}`);
        }
        lastEndDone = Date.now();
        notBefore = lastEndDone + Math.max(2, 0.8 * this.ewmaMs);
      }
    };

    const loops = agents.map((a) => loop(a));
    return {
      calls,
      stats,
      capped,
      stop: async () => {
        stopping = true;
        await Promise.all(loops);
      },
    };
  }
}
