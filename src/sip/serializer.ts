/** Serialises a message; Content-Length is always written from the actual body (RFC 3261 §20.14). */
import { REASON, type SipMessage } from './message.js';

export function serialize(msg: SipMessage): Buffer {
  let head =
    msg.type === 'request'
      ? `${msg.method} ${msg.uri} SIP/2.0\r\n`
      : `SIP/2.0 ${msg.status} ${msg.reason || REASON[msg.status] || ''}\r\n`;
  for (const [name, value] of msg.headers.entries()) {
    if (name === 'Content-Length') continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  const h = Buffer.from(head, 'utf8');
  return msg.body.length ? Buffer.concat([h, msg.body]) : h;
}
