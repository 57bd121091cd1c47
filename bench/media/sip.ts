/**
 * The load generator's SIP side: a minimal UAC over one UDP socket on 127.0.0.1 that places
 * calls (INVITE with a PCMU + telephone-event offer, 200, ACK) and hangs them up (BYE), with
 * RFC 3261 UDP retransmissions. Requests from the gateway (a BYE when it ends a call, OPTIONS)
 * are answered 200 and reported.
 */
import dgram from 'node:dgram';
import { parseMessage } from '../../src/sip/parser.js';
import type { SipMessage, SipResponse } from '../../src/sip/message.js';

export interface Dialog { callId: string; number: string; fromTag: string; toTag: string; cseq: number; remoteRtpPort: number }

const T1 = 500;
const TIMEOUT_MS = 10_000;

export const offer = (rtpPort: number): string =>
  `v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${rtpPort} RTP/AVP 0 101\r\n` +
  `a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n`;

export class SipClient {
  private readonly sock = dgram.createSocket('udp4');
  private port = 0;
  private waiting = new Map<string, (r: SipResponse) => void>();
  /** Dialogs whose 2xx we ACKed: a retransmitted 200 is ACKed again. */
  private acks = new Map<string, string>();
  onGatewayBye?: (callId: string, reason: string) => void;

  private constructor(private readonly target: number) {}

  static async open(target: number): Promise<SipClient> {
    const c = new SipClient(target);
    await new Promise<void>((r) => c.sock.bind(0, '127.0.0.1', () => r()));
    c.port = c.sock.address().port;
    c.sock.on('message', (m) => c.onMessage(m));
    c.sock.on('error', () => undefined);
    return c;
  }

  private send(text: string): void {
    this.sock.send(Buffer.from(text), this.target, '127.0.0.1');
  }

  private onMessage(buf: Buffer): void {
    let m: SipMessage;
    try {
      m = parseMessage(buf);
    } catch {
      return;
    }
    const callId = m.headers.get('Call-ID') ?? '';
    const cseq = (m.headers.get('CSeq') ?? '').trim();
    if (m.type === 'request') {
      if (m.method === 'ACK') return;
      if (m.method === 'BYE') this.onGatewayBye?.(callId, m.headers.get('Reason') ?? '(no Reason)');
      const vias = m.headers.lines('Via').map((v) => `Via: ${v}\r\n`).join('');
      this.send(`SIP/2.0 200 OK\r\n${vias}From: ${m.headers.get('From')}\r\nTo: ${m.headers.get('To')}\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const method = cseq.split(/\s+/)[1] ?? '';
    if (m.status < 200) return this.waiting.get(`${callId} ${method}`)?.(m);
    const ack = method === 'INVITE' && m.status < 300 ? this.acks.get(callId) : undefined;
    if (ack) return this.send(ack);
    this.waiting.get(`${callId} ${method}`)?.(m);
  }

  /** Send `req` with retransmissions until a final response (or, for INVITE, any response stops them). */
  private transact(callId: string, method: string, req: string): Promise<SipResponse | null> {
    return new Promise((resolve) => {
      let interval = T1;
      let timer: NodeJS.Timeout | undefined;
      const retransmit = (): void => {
        this.send(req);
        timer = setTimeout(retransmit, interval);
        interval = Math.min(interval * 2, 4000);
      };
      const giveUp = setTimeout(() => done(null), TIMEOUT_MS);
      const done = (r: SipResponse | null): void => {
        clearTimeout(timer);
        clearTimeout(giveUp);
        this.waiting.delete(`${callId} ${method}`);
        resolve(r);
      };
      this.waiting.set(`${callId} ${method}`, (r) => {
        if (r.status >= 200) done(r);
        else if (method === 'INVITE') clearTimeout(timer);
      });
      retransmit();
    });
  }

  /** INVITE `number`, ACK the final answer; the dialog on 200, else why not. */
  async call(callId: string, number: string, rtpPort: number): Promise<Dialog | string> {
    const fromTag = `bf${callId.length}${Math.random().toString(36).slice(2, 10)}`;
    const branch = `z9hG4bK-${callId}-1`;
    const body = offer(rtpPort);
    const head = (b: string) =>
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${b};rport\r\nFrom: <sip:+15551230000@127.0.0.1>;tag=${fromTag}\r\n`;
    const r = await this.transact(callId, 'INVITE', `INVITE sip:${number}@127.0.0.1 SIP/2.0\r\n${head(branch)}To: <sip:${number}@127.0.0.1>\r\n` +
      `Call-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:bench@127.0.0.1:${this.port}>\r\nMax-Forwards: 70\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    if (!r) return 'no final response to INVITE within 10 s';
    const to = r.headers.get('To') ?? '';
    // RFC 3261 §17.1.1.3: a non-2xx final is ACKed in its transaction (same branch), a 2xx end to end.
    const ack = `ACK sip:${number}@127.0.0.1 SIP/2.0\r\n${head(r.status < 300 ? `z9hG4bK-${callId}-ack` : branch)}To: ${to}\r\n` +
      `Call-ID: ${callId}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
    this.send(ack);
    if (r.status !== 200) return `${r.status} ${r.reason}`;
    this.acks.set(callId, ack);
    const port = /^m=audio (\d+)/m.exec(r.body.toString('utf8'));
    const toTag = /;\s*tag=([^;>\s]+)/.exec(to);
    if (!port || !toTag) return '200 without an audio port or To tag';
    return { callId, number, fromTag, toTag: toTag[1]!, cseq: 1, remoteRtpPort: Number(port[1]) };
  }

  /** BYE and wait for its final response; true on 2xx. */
  async bye(d: Dialog): Promise<boolean> {
    d.cseq++;
    this.acks.delete(d.callId);
    const r = await this.transact(d.callId, 'BYE', `BYE sip:${d.number}@127.0.0.1 SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK-${d.callId}-bye-${d.cseq};rport\r\n` +
      `From: <sip:+15551230000@127.0.0.1>;tag=${d.fromTag}\r\nTo: <sip:${d.number}@127.0.0.1>;tag=${d.toTag}\r\n` +
      `Call-ID: ${d.callId}\r\nCSeq: ${d.cseq} BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`);
    return r !== null && r.status >= 200 && r.status < 300;
  }

  forget(callId: string): void {
    this.acks.delete(callId);
  }

  close(): void {
    this.sock.close();
  }
}
