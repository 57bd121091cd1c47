/**
 * A hand-driven SIP peer over loopback UDP for integration tests that need exact control of the
 * bytes (refusals, RTP echo, drain): it sends text messages and waits for matching ones.
 */
import dgram from 'node:dgram';
import { parseMessage } from '../../src/sip/parser.js';
import type { SipMessage, SipResponse } from '../../src/sip/message.js';

export class SipPeer {
  readonly sock = dgram.createSocket('udp4');
  readonly inbox: SipMessage[] = [];
  private waiters: (() => void)[] = [];
  port = 0;

  static async open(): Promise<SipPeer> {
    const p = new SipPeer();
    await new Promise<void>((r) => p.sock.bind(0, '127.0.0.1', r));
    p.port = p.sock.address().port;
    p.sock.on('message', (m) => {
      try {
        p.inbox.push(parseMessage(m));
      } catch {
        /* not SIP: ignore */
      }
      p.waiters.splice(0).forEach((w) => w());
    });
    return p;
  }

  /** Send `text` (LF line ends become CRLF; Content-Length is computed when written as `{len}`). */
  send(text: string, port: number): void {
    const [head, body = ''] = text.split('\n\n');
    const msg = `${head!.replace('{len}', String(Buffer.byteLength(body.replace(/\n/g, '\r\n'))))}\n\n${body}`.replace(/\n/g, '\r\n');
    this.sock.send(Buffer.from(msg), port, '127.0.0.1');
  }

  async next(pred: (m: SipMessage) => boolean, timeoutMs = 5000): Promise<SipMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const idx = this.inbox.findIndex(pred);
      if (idx >= 0) return this.inbox.splice(idx, 1)[0]!;
      if (Date.now() > deadline) throw new Error('expected SIP message did not arrive');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
  }

  close(): void {
    this.sock.close();
  }
}

export const isResponse = (status: number, method?: string) => (m: SipMessage): boolean =>
  m.type === 'response' && m.status === status && (!method || m.headers.get('CSeq')!.trim().endsWith(method));
export const isFinal = (method: string) => (m: SipMessage): boolean =>
  m.type === 'response' && m.status >= 200 && m.headers.get('CSeq')!.trim().endsWith(method);
export const isRequest = (method: string) => (m: SipMessage): boolean => m.type === 'request' && m.method === method;

export const toTag = (r: SipResponse): string => /tag=([^;>\s]+)/.exec(r.headers.get('To') ?? '')![1]!;

export const OFFER = (rtpPort: number, codecs = '0 101'): string =>
  `v=0\no=caller 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio ${rtpPort} RTP/AVP ${codecs}\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=ptime:20\na=sendrecv\n`;

export interface DialogRef {
  callId: string;
  number: string;
  fromTag: string;
  toTag?: string;
  cseq: number;
}

export function invite(peer: SipPeer, d: DialogRef, sdp: string, branch = `z9hG4bK-${d.callId}-${d.cseq}`): string {
  return `INVITE sip:${d.number}@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${branch};rport
From: <sip:+15551230000@127.0.0.1>;tag=${d.fromTag}
To: <sip:${d.number}@127.0.0.1>${d.toTag ? `;tag=${d.toTag}` : ''}
Call-ID: ${d.callId}
CSeq: ${d.cseq} INVITE
Contact: <sip:caller@127.0.0.1:${peer.port}>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: {len}

${sdp}`;
}

export function inDialog(peer: SipPeer, d: DialogRef, method: string, extra = ''): string {
  return `${method} sip:${d.number}@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-${d.callId}-${method}-${d.cseq};rport
From: <sip:+15551230000@127.0.0.1>;tag=${d.fromTag}
To: <sip:${d.number}@127.0.0.1>;tag=${d.toTag}
Call-ID: ${d.callId}
CSeq: ${d.cseq} ${method}
Max-Forwards: 70
${extra}Content-Length: {len}

`;
}

let seq = 0;
/** Place a call from `peer` to `number` at `port` and ACK the 200 (or return the refusal). */
export async function placeCall(peer: SipPeer, port: number, number: string, sdp: string, extraHeaders = ''): Promise<{ d: DialogRef; ok: SipResponse }> {
  const d: DialogRef = { callId: `t-${++seq}-${Date.now()}`, number, fromTag: `f${seq}`, cseq: 1 };
  const inv = invite(peer, d, sdp).replace('Max-Forwards: 70\n', `Max-Forwards: 70\n${extraHeaders}`);
  peer.send(inv, port);
  // Match on Call-ID: a retransmitted 2xx of an earlier call may still sit in the inbox.
  const ok = (await peer.next((m) => isFinal('INVITE')(m) && m.headers.get('Call-ID') === d.callId)) as SipResponse;
  if (ok.status !== 200) return { d, ok };
  d.toTag = toTag(ok);
  peer.send(inDialog(peer, { ...d }, 'ACK'), port);
  return { d, ok };
}

/** Hang up from the peer's side and wait for the 200. */
export async function hangUp(peer: SipPeer, port: number, d: DialogRef): Promise<void> {
  d.cseq++;
  peer.send(inDialog(peer, d, 'BYE'), port);
  await peer.next(isResponse(200, 'BYE'));
}

/** Answer a request the gateway sent (BYE, REFER, ...) with `status`. */
export function answer(peer: SipPeer, req: SipMessage, port: number, status = 200, reason = 'OK'): void {
  const h = req.headers;
  const vias = h.lines('Via').map((v) => `Via: ${v}`).join('\n');
  peer.send(`SIP/2.0 ${status} ${reason}\n${vias}\nFrom: ${h.get('From')}\nTo: ${h.get('To')}\nCall-ID: ${h.get('Call-ID')}\nCSeq: ${h.get('CSeq')}\nContent-Length: 0\n\n`, port);
}
