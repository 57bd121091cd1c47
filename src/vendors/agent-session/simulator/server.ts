/**
 * The simulator's network side: the agent-session protocol over WebSocket at `/agent-session`
 * (HTTP Basic credentials of the agent on the upgrade), and a small admin API for the sandbox and
 * the tests: POST /__sim/calls {agent, caller?} routes a customer to a ready agent, POST
 * /__sim/calls/end {contactId, by}, GET /__sim/state, POST /__sim/faults.
 * Bad input never ends it: malformed JSON, unknown commands and foreign targets get a failure.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { guard } from '../../../util/faults.js';
import { COMMANDS, parseRequest, WireError, type WireRequest } from '../wire.js';
import { SimFailure, type SimSession, type SimState } from './state.js';

export interface SimFaults {
  /** Close the connection of this agent after its next N requests (a dropped connection). */
  dropAfter?: { agent: string; requests: number };
  /** Answer every request this late (ms). */
  delayMs?: number;
  /** Answer the next `count` requests of `command` with this failure. */
  fail?: { command: string; code: string; message: string; count: number };
}

export interface SimServerHooks {
  state: SimState;
  log: Logger;
  faults: SimFaults;
  /** A customer call was routed to an agent: place it. */
  callStarted(contactId: string): void;
  /** The platform side ended a call (admin API). */
  callEnded(contactId: string, by: 'customer' | 'agent'): void;
}

export interface SimServer {
  url: string;
  port: number;
  /** Log an agent out as a supervisor would (a call in progress is released). */
  forceLogout(agent: string): void;
  /** The live connection of an agent's session (to drop it in tests). */
  socketOf(agent: string): WebSocket | undefined;
  send(session: string, msg: unknown): void;
  close(): Promise<void>;
}

export async function startServer(port: number, hooks: SimServerHooks): Promise<SimServer> {
  const { state, log } = hooks;
  const sockets = new Map<string, WebSocket>(); // by session id
  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  const server = http.createServer(guard('sandbox.agent-session.http', (req: http.IncomingMessage, res: http.ServerResponse) => void admin(req, res), { log }));

  const send = (session: string, msg: unknown): void => {
    const ws = sockets.get(session);
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };
  const dispatch = (s: SimSession, r: WireRequest): Record<string, unknown> => {
    switch (r.command) {
      case 'session.request.addchannel':
        return state.addChannel(s, r.data);
      case 'session.request.externalnotreadyreasons':
        queueMicrotask(() => send(s.id, { messageType: 'objectEvent', target: s.id, name: 'session.externalnotreadyreasons.updated', data: { reasonCodes: state.reasonCodes } }));
        return {};
      case 'session.request.externallogoutreasons':
        queueMicrotask(() => send(s.id, { messageType: 'objectEvent', target: s.id, name: 'session.externallogoutreasons.updated', data: { logoutReasons: [{ logoutReasonId: '1', logoutReasonCode: 'end-of-shift', labels: [] }] } }));
        return {};
      case 'session.request.incontact.addressbook':
        return { addressbooks: state.addressBooks(r.data['realtime'] === true) };
      case 'session.request.incontact.agentleg.connect':
      case 'session.request.incontact.agentleg.disconnect':
        return {};
      case 'session.request.logout':
        state.logout(s);
        setTimeout(() => sockets.get(s.id)?.close(1000, 'logged out'), 10).unref();
        return {};
      case 'channel.activate':
        state.activate(s, state.channel(s, r.target), r.data);
        return r.data;
      case 'channel.deactivate':
        state.deactivate(s, state.channel(s, r.target));
        return r.data;
      case 'channel.ready':
        state.ready(s, state.channel(s, r.target));
        return r.data;
      case 'channel.notready':
        state.notReady(s, state.channel(s, r.target), r.data);
        return r.data;
      default:
        throw new SimFailure('UnknownCommand', `unknown command ${r.command.slice(0, 60)} (known: ${COMMANDS.join(', ')})`);
    }
  };

  const onMessage = (s: SimSession, text: string): void => {
    let r: WireRequest;
    try {
      r = parseRequest(text);
    } catch (e) {
      send(s.id, { command: '', target: s.id, result: 'failure', failure: { code: 'MalformedRequest', message: (e as WireError).message }, original: text.slice(0, 200) });
      return;
    }
    const reply = (): void => {
      const f = hooks.faults.fail;
      try {
        if (!state.sessions.has(s.id)) throw new SimFailure('SessionEnded', `session ${s.id} has ended (logged out)`);
        if (!r.target.startsWith(s.id)) throw new SimFailure('InvalidTarget', `target ${r.target} is not in session ${s.id}`);
        if (f && f.count > 0 && f.command === r.command) {
          f.count--;
          throw new SimFailure(f.code, f.message);
        }
        const data = dispatch(s, r);
        send(s.id, { command: r.command, target: r.target, result: 'success', data });
      } catch (e) {
        if (!(e instanceof SimFailure)) throw e;
        send(s.id, { command: r.command, target: r.target, result: 'failure', failure: e.failure, original: r });
      }
      const drop = hooks.faults.dropAfter;
      if (drop && drop.agent === s.agent && --drop.requests <= 0) {
        delete hooks.faults.dropAfter;
        sockets.get(s.id)?.terminate();
      }
    };
    if (hooks.faults.delayMs) setTimeout(guard('sandbox.agent-session.reply', reply, { log }), hooks.faults.delayMs).unref();
    else reply();
  };

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const [user, password] = auth ? Buffer.from(auth[1]!, 'base64').toString('utf8').split(':') : [];
    const agent = user ? state.agent(user) : undefined;
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (url.pathname !== '/agent-session') return refuse(404, 'Not Found');
    if (!agent || agent.password !== password) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const s = state.bind(agent.user);
      // One client per session: a new connection replaces the old one.
      sockets.get(s.id)?.terminate();
      sockets.set(s.id, ws);
      ws.on('message', guard('sandbox.agent-session.message', (m: Buffer) => onMessage(s, m.toString('utf8')), { log }));
      ws.on('close', () => {
        if (sockets.get(s.id) === ws) sockets.delete(s.id);
      });
      ws.on('error', () => undefined);
      state.replay(s);
    });
  });

  async function admin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    let body: Record<string, unknown> = {};
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return reply(400, { error: 'body must be JSON' });
      }
    }
    const path = (req.url ?? '').split('?')[0];
    try {
      if (req.method === 'POST' && path === '/__sim/calls') {
        const call = state.startCall(String(body['agent'] ?? ''), String(body['caller'] ?? '+13125550100'));
        hooks.callStarted(call.contactId);
        return reply(201, call);
      }
      if (req.method === 'POST' && path === '/__sim/calls/end') {
        const contactId = String(body['contactId'] ?? '');
        const call = state.endCall(contactId, body['by'] === 'agent' ? 'agent' : 'customer');
        hooks.callEnded(contactId, call.endedBy ?? 'customer');
        return reply(200, call);
      }
      if (req.method === 'POST' && path === '/__sim/agents/logout') {
        const agent = String(body['agent'] ?? '');
        const open = state.sessionOf(agent)?.currentCall;
        const s = state.forceLogout(agent);
        if (open) hooks.callEnded(open, 'agent');
        setTimeout(() => sockets.get(s.id)?.close(1000, 'logged out by a supervisor'), 10).unref();
        return reply(200, { loggedOut: agent });
      }
      if (req.method === 'GET' && path === '/__sim/state') {
        return reply(200, { sessions: [...state.sessions.values()], calls: [...state.calls.values()] });
      }
      if (req.method === 'POST' && path === '/__sim/faults') {
        Object.assign(hooks.faults, body);
        return reply(200, hooks.faults);
      }
      reply(404, { error: `no ${req.method} ${path}` });
    } catch (e) {
      if (e instanceof SimFailure) return reply(409, { error: e.message, code: e.code });
      throw e;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  state.setEmitter((e) => send(e.session, { messageType: 'objectEvent', target: e.target, name: e.name, data: e.data }));
  return {
    url: `ws://127.0.0.1:${bound}/agent-session`,
    port: bound,
    socketOf: (agent) => {
      const s = state.sessionOf(agent);
      return s ? sockets.get(s.id) : undefined;
    },
    send,
    forceLogout: (agent) => {
      const open = state.sessionOf(agent)?.currentCall;
      const s = state.forceLogout(agent);
      if (open) hooks.callEnded(open, 'agent');
      setTimeout(() => sockets.get(s.id)?.close(1000, 'logged out by a supervisor'), 10).unref();
    },
    close: async () => {
      for (const ws of sockets.values()) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
