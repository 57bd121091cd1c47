/**
 * For the SIP stack's unit tests: a raw UDP peer that writes SIP by hand (or serialises a
 * message) and queues what it receives, and a UserAgent on a loopback endpoint with a fake clock.
 */
import dgram from 'node:dgram';
import pino from 'pino';
import { expect } from 'vitest';
import { FakeClock } from '../../src/sip/clock.js';
import { SipEndpoint } from '../../src/sip/endpoint.js';
import type { SipMessage } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parser.js';
import { serialize } from '../../src/sip/serializer.js';
import { UserAgent } from '../../src/sip/ua.js';

export const silentLog = pino({ level: 'silent' });

export class RawPeer {
  sock = dgram.createSocket('udp4');
  inbox: SipMessage[] = [];
  private waiters: (() => void)[] = [];
  port = 0;

  async open(): Promise<void> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', r));
    this.port = this.sock.address().port;
    this.sock.on('message', (m) => {
      this.inbox.push(parseMessage(m));
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  /** Text with \n line ends (sent as CRLF), or a message to serialise. */
  send(msg: string | SipMessage, port: number): void {
    const data = typeof msg === 'string' ? Buffer.from(msg.replace(/\n/g, '\r\n')) : serialize(msg);
    this.sock.send(data, port, '127.0.0.1');
  }

  async next(pred: (m: SipMessage) => boolean): Promise<SipMessage> {
    for (let i = 0; i < 200; i++) {
      const idx = this.inbox.findIndex(pred);
      if (idx >= 0) return this.inbox.splice(idx, 1)[0]!;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 10);
      });
    }
    throw new Error('expected message did not arrive');
  }

  /** Nothing matching arrives within a short real-time wait. */
  async none(pred: (m: SipMessage) => boolean): Promise<void> {
    await new Promise((r) => setTimeout(r, 60));
    expect(this.inbox.filter(pred)).toEqual([]);
  }
}

export const isReq = (method: string) => (m: SipMessage) => m.type === 'request' && m.method === method;
export const isRes = (status: number, method?: string) => (m: SipMessage) =>
  m.type === 'response' && m.status === status && (!method || m.headers.get('CSeq')!.endsWith(method));

/** A UA on 127.0.0.1 (UDP, ephemeral port) and a raw peer; `cleanup` gets their teardown. */
export async function startUa(cleanup: (() => Promise<void>)[], clock = new FakeClock()) {
  const ep = new SipEndpoint({ host: '127.0.0.1', port: 0, transports: ['udp'], advertisedHost: '127.0.0.1', logger: silentLog, clock });
  await ep.start();
  const ua = new UserAgent(ep, { userAgent: 'test', sessionTimers: { minSE: 90, defaultExpires: 1800 }, logger: silentLog });
  const peer = new RawPeer();
  await peer.open();
  cleanup.push(async () => {
    await ep.stop();
    peer.sock.close();
  });
  return { ep, ua, peer, clock };
}
