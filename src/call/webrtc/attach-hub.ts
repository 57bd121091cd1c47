/**
 * `/webrtc`: where server-side engines attach over WebRTC instead of the Twilio-protocol stream.
 * An engine opens a WebSocket with the gateway's attach token, claims agents, and from then on
 * gets each of their calls as a JSON `offer` to answer (trickle ICE allowed). Wire format:
 * docs/webrtc-attach.md.
 *
 * One claim per agent: a second engine claiming a claimed agent is refused, so a call never goes
 * to two engines. Claims die with the socket; calls of a socket that closes end through the
 * call's one end path (failure policy before the answer, `engine-hangup`-like end after).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EngineControl, StreamMeta } from '../../../media/types.js';
import type { FarEnd, FarEndHandlers, FarEndSource } from './far-end.js';
import { refuseUpgrade } from '../../sip/transport/ws.js';
import { parseAttachMessage, type AttachIn } from './attach-wire.js';
import { guard } from '../../util/faults.js';

export interface AttachHubOptions {
  /** Bearer token; undefined refuses every attach (403 naming the missing setting). */
  token?: string;
  /** Turns an agent id or number into the agent id, or undefined when unknown. */
  resolveAgent(ref: string): string | undefined;
  log: Logger;
  /** Largest message accepted from an engine (SDP with candidates fits easily). */
  maxMessageBytes?: number;
}

interface Conn {
  ws: WebSocket;
  id: number;
  agents: Set<string>;
  calls: Map<string, { handlers: FarEndHandlers; answered: boolean }>;
}

export class AttachHub implements FarEndSource {
  private readonly wss: WebSocketServer;
  private readonly claims = new Map<string, Conn>();
  private nextId = 1;

  constructor(private readonly opts: AttachHubOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? 65_536 });
  }

  /** Handles an HTTP upgrade for /webrtc: refuses it with a status and reason, or accepts it. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = this.authenticate(req);
    if (refusal) {
      refuseUpgrade(socket, refusal.status, refusal.reason);
      this.opts.log.warn({ from: req.socket.remoteAddress, status: refusal.status }, `WebRTC attach refused: ${refusal.reason}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private authenticate(req: IncomingMessage): { status: number; reason: string } | undefined {
    const expected = this.opts.token;
    if (!expected) return { status: 403, reason: 'WebRTC attach is not enabled (set gateway.attachToken)' };
    const header = req.headers.authorization;
    // Browsers cannot set headers on a WebSocket, so the token may also come as ?token=.
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : query;
    if (!given) return { status: 401, reason: 'Missing attach token (Authorization: Bearer <token> or ?token=)' };
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { status: 403, reason: 'Wrong attach token' };
    return undefined;
  }

  private accept(ws: WebSocket): void {
    const conn: Conn = { ws, id: this.nextId++, agents: new Set(), calls: new Map() };
    const log = this.opts.log.child({ attach: conn.id });
    log.info('WebRTC engine attached');
    ws.on('message', guard('webrtc.attach.message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return this.send(conn, { type: 'error', code: 'invalid-message', message: 'binary frames are not part of the attach protocol' });
      const parsed = parseAttachMessage(data.toString());
      if ('error' in parsed) return this.send(conn, { type: 'error', code: parsed.code, message: parsed.error });
      this.onMessage(conn, parsed.msg, log);
    }, { log, onFault: () => this.send(conn, { type: 'error', code: 'internal', message: 'internal error; it was logged' }) }));
    ws.on('close', () => this.detach(conn, log));
    ws.on('error', (e) => log.warn({ err: e.message }, 'attach socket error'));
  }

  private onMessage(conn: Conn, m: AttachIn, log: Logger): void {
    if (m.type === 'claim') return this.claim(conn, m.agents, log);
    if (m.type === 'release') {
      for (const ref of m.agents) {
        const id = this.opts.resolveAgent(ref);
        if (id && this.claims.get(id) === conn) {
          this.claims.delete(id);
          conn.agents.delete(id);
        }
      }
      return this.send(conn, { type: 'released', agents: m.agents });
    }
    const call = conn.calls.get(m.callId);
    if (!call) return this.send(conn, { type: 'error', code: 'unknown-call', message: `no call ${m.callId} on this connection`, callId: m.callId });
    switch (m.type) {
      case 'answer':
        if (call.answered) return this.send(conn, { type: 'error', code: 'invalid-message', message: 'call already answered', callId: m.callId });
        call.answered = true;
        return call.handlers.answer(m.sdp);
      case 'candidate':
        return call.handlers.candidate(m.candidate, m.sdpMid);
      case 'reject':
        conn.calls.delete(m.callId);
        return call.handlers.failed(`engine refused the call: ${m.reason ?? 'no reason given'}`);
      case 'control':
        if (!call.answered) return this.send(conn, { type: 'error', code: 'not-possible', message: 'answer the call before controlling it', callId: m.callId });
        if (m.control.type === 'hangup') conn.calls.delete(m.callId);
        return call.handlers.control(m.control as EngineControl);
    }
  }

  private claim(conn: Conn, refs: string[], log: Logger): void {
    const claimed: string[] = [];
    for (const ref of refs) {
      const id = this.opts.resolveAgent(ref);
      if (!id) {
        this.send(conn, { type: 'error', code: 'unknown-agent', message: `no virtual agent '${ref}'` });
        continue;
      }
      const owner = this.claims.get(id);
      if (owner && owner !== conn) {
        this.send(conn, { type: 'error', code: 'already-claimed', message: `virtual agent ${id} is claimed by another engine` });
        continue;
      }
      this.claims.set(id, conn);
      conn.agents.add(id);
      claimed.push(id);
    }
    if (claimed.length) log.info({ agents: claimed }, 'agents claimed over WebRTC attach');
    this.send(conn, { type: 'claimed', agents: claimed });
  }

  private detach(conn: Conn, log: Logger): void {
    for (const id of conn.agents) if (this.claims.get(id) === conn) this.claims.delete(id);
    const calls = [...conn.calls.values()];
    conn.calls.clear();
    for (const c of calls) (c.answered ? c.handlers.gone : c.handlers.failed)('attached engine disconnected');
    log.info({ calls: calls.length }, 'WebRTC engine detached');
  }

  private send(conn: Conn, msg: Record<string, unknown>): void {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(JSON.stringify(msg));
  }

  // ------------------------------------------------------------ FarEndSource

  unavailable(agentId: string): string | undefined {
    return this.claims.has(agentId) ? undefined : `Virtual agent ${agentId} has no WebRTC endpoint attached`;
  }

  create(agentId: string, callId: string, handlers: FarEndHandlers): FarEnd {
    const conn = this.claims.get(agentId);
    let ended = false;
    if (conn) conn.calls.set(callId, { handlers, answered: false });
    return {
      offer: (sdp: string, meta: StreamMeta) => {
        if (!conn || conn.ws.readyState !== conn.ws.OPEN) return handlers.failed(`virtual agent ${agentId} has no WebRTC endpoint attached (the engine left before the call reached it)`);
        this.send(conn, { type: 'offer', callId, agent: agentId, sdp, meta });
      },
      end: (reason: string, detail?: string) => {
        if (ended) return;
        ended = true;
        if (!conn || !conn.calls.delete(callId)) return;
        this.send(conn, { type: 'call-ended', callId, reason, ...(detail ? { detail } : {}) });
      },
    };
  }

  /** Agents claimed right now (for /agents and the demo page). */
  claimed(agentId: string): boolean {
    return this.claims.has(agentId);
  }

  close(): void {
    for (const c of this.wss.clients) c.close(1001, 'gateway shutting down');
    this.wss.close();
  }
}
