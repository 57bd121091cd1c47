/**
 * SIP over WebSocket (RFC 7118) through a real HTTP server and a real `ws` client: the handshake
 * rules, one SIP message per WebSocket message, responses on the same connection, requests to a
 * connection that is gone, keep-alives and the flow-closed event.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { WebSocket } from 'ws';
import { SipEndpoint } from '../endpoint.js';
import { newRequest, SipHeaders, type SipMessage, type SipResponse } from '../message.js';
import { parseMessage } from '../parser.js';
import { makeResponse } from '../response.js';
import { UserAgent } from '../ua.js';
import type { Flow } from './types.js';

const log = pino({ level: 'silent' });
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup() {
  const ep = new SipEndpoint({ host: '127.0.0.1', port: 0, transports: ['udp', 'ws'], advertisedHost: '127.0.0.1', logger: log, websocket: { pingIntervalMs: 200 } });
  await ep.start();
  const ua = new UserAgent(ep, { userAgent: 'test', sessionTimers: { minSE: 90, defaultExpires: 1800 }, logger: log });
  const server = http.createServer((_q, r) => r.end('http'));
  ep.websocket!.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  cleanup.push(async () => {
    await ep.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { ep, ua, port };
}

class Client {
  inbox: { msg?: SipMessage; raw: Buffer; binary: boolean }[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer, binary) => {
      let msg: SipMessage | undefined;
      try {
        msg = parseMessage(d);
      } catch {
        /* keep-alive pong etc. */
      }
      this.inbox.push(msg ? { msg, raw: d, binary } : { raw: d, binary });
    });
  }
  static open(port: number, protocol: string | string[] = 'sip', path = '/sip'): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocol);
    cleanup.push(() => ws.terminate());
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }
  async next(pred: (e: Client['inbox'][number]) => boolean, ms = 3000): Promise<Client['inbox'][number]> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (Date.now() > end) throw new Error('nothing arrived');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const options = (branch: string, withLength = true) =>
  [
    'OPTIONS sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK${branch};rport`,
    'From: <sip:alice@example.invalid>;tag=f1',
    'To: <sip:127.0.0.1>',
    `Call-ID: ${branch}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    ...(withLength ? ['Content-Length: 0'] : []),
    '',
    '',
  ].join('\r\n');

describe('SIP over WebSocket transport', () => {
  it('refuses upgrades without the sip subprotocol (RFC 7118 §4.1) with HTTP 400 and a reason', async () => {
    const { port } = await setup();
    await expect(Client.open(port, 'chat')).rejects.toThrow('HTTP 400');
    await expect(Client.open(port, [])).rejects.toThrow('HTTP 400');
    // The refusal names what is wrong.
    const body = await new Promise<string>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/sip', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'xmpp' } });
      req.on('response', (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(`${res.statusCode} ${b}`));
      });
      req.end();
    });
    expect(body).toMatch(/^400 WebSocket subprotocol 'sip' required \(RFC 7118 §4\.1\), offered: xmpp/);
    // 'SIP' in capitals is accepted and echoed as offered.
    const c = await Client.open(port, 'SIP');
    expect(c.ws.protocol).toBe('SIP');
  });

  it('answers OPTIONS on the same connection, with or without Content-Length, in a text frame', async () => {
    const { port, ep } = await setup();
    const c = await Client.open(port);
    c.ws.send(options('a1'));
    c.ws.send(Buffer.from(options('a2', false)), { binary: true });
    const r1 = await c.next((e) => e.msg?.type === 'response' && e.msg.headers.get('Call-ID') === 'a1');
    const r2 = await c.next((e) => e.msg?.type === 'response' && e.msg.headers.get('Call-ID') === 'a2');
    for (const r of [r1, r2]) {
      expect((r.msg as SipResponse).status).toBe(200);
      expect(r.binary).toBe(false);
      // §18.2.1: the .invalid sent-by differs from the source, so `received` (and rport) are set.
      expect(r.msg!.headers.get('Via')).toMatch(/^SIP\/2\.0\/WS df7jal23ls0d\.invalid;branch=z9hG4bKa\d;rport=\d+;received=127\.0\.0\.1$/);
    }
    expect(ep.websocket!.connectionCount).toBe(1);
  });

  it('answers a double-CRLF keep-alive with CRLF, and an unparsable message with 400', async () => {
    const { port } = await setup();
    const c = await Client.open(port);
    c.ws.send('\r\n\r\n');
    expect((await c.next((e) => !e.msg)).raw.toString()).toBe('\r\n');
    c.ws.send(options('bad').replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
    const r = await c.next((e) => !!e.msg);
    expect(`${(r.msg as SipResponse).status} ${(r.msg as SipResponse).reason}`).toBe('400 CSeq method INVITE does not match OPTIONS');
  });

  it('sends requests over the flow; a closed connection is a transport error and a flow-closed event', async () => {
    const { port, ep } = await setup();
    const closed: Flow[] = [];
    ep.onFlowClosed((f) => closed.push(f));
    const c = await Client.open(port);
    c.ws.send(options('f1'));
    await c.next((e) => !!e.msg);
    const h = new SipHeaders().add('From', '<sip:gw@127.0.0.1>;tag=g1').add('To', '<sip:alice@x.invalid>').add('Call-ID', 'out1').add('CSeq', '1 OPTIONS');
    const got: number[] = [];
    let timedOut = false;
    ep.request(newRequest('OPTIONS', 'sip:alice@x.invalid;transport=ws', h), { transport: 'ws', address: '127.0.0.1', port: 1, connectionId: 1 }, { onResponse: (r) => got.push(r.status), onTimeout: () => (timedOut = true) });
    const req = await c.next((e) => e.msg?.type === 'request');
    expect(req.msg!.headers.get('Via')).toMatch(new RegExp(`^SIP/2\\.0/WS 127\\.0\\.0\\.1:${port};branch=z9hG4bK`));
    // Answer it: the client transaction matches the response that came back over the socket.
    const m = req.msg!;
    c.ws.send(`SIP/2.0 200 OK\r\nVia: ${m.headers.get('Via')}\r\nFrom: ${m.headers.get('From')}\r\nTo: ${m.headers.get('To')};tag=t\r\nCall-ID: out1\r\nCSeq: 1 OPTIONS\r\n\r\n`);
    await expect.poll(() => got).toEqual([200]);

    c.ws.close();
    await expect.poll(() => closed.length).toBe(1);
    expect(closed[0]).toMatchObject({ transport: 'ws', connectionId: 1, remote: { address: '127.0.0.1' } });
    ep.request(newRequest('OPTIONS', 'sip:alice@x.invalid;transport=ws', h.clone().set('CSeq', '2 OPTIONS')), { transport: 'ws', address: '127.0.0.1', port: 1, connectionId: 1 }, { onResponse: () => undefined, onTimeout: () => (timedOut = true) });
    await expect.poll(() => timedOut).toBe(true);
  });

  it('closes a connection that stops answering pings (RFC 7118 §6)', async () => {
    const { port, ep } = await setup();
    // A raw socket that completes the handshake and then never answers a ping, like a dead peer.
    const sock = net.connect(port, '127.0.0.1');
    cleanup.push(() => void sock.destroy());
    sock.write('GET /sip HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n\r\n');
    const head = await new Promise<string>((r) => sock.once('data', (d: Buffer) => r(d.toString())));
    expect(head).toMatch(/^HTTP\/1\.1 101 .*\r\n[\s\S]*Sec-WebSocket-Protocol: sip\r\n/);
    expect(ep.websocket!.connectionCount).toBe(1);
    await expect.poll(() => ep.websocket!.connectionCount, { timeout: 2000 }).toBe(0);
  });

  it('REGISTER is 405 without a registrar, and goes to it with one', async () => {
    const { port, ua } = await setup();
    const c = await Client.open(port);
    const reg = (b: string) => options(b).replace('OPTIONS sip:', 'REGISTER sip:').replace('CSeq: 1 OPTIONS', 'CSeq: 1 REGISTER');
    c.ws.send(reg('r1'));
    const r = await c.next((e) => !!e.msg);
    expect((r.msg as SipResponse).status).toBe(405);
    expect(r.msg!.headers.get('Allow')).not.toContain('REGISTER');
    ua.setRegistrar({ register: (req, tx, flow) => tx.respond(makeResponse(req, 299, `seen ${flow.transport} ${req.method}`)) });
    c.ws.send(reg('r2'));
    const r2 = await c.next((e) => !!e.msg);
    expect((r2.msg as SipResponse).reason).toBe('seen ws REGISTER');
  });
});
