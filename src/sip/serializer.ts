/** Serialises a message; Content-Length is always written from the actual body (RFC 3261 §20.14). */
import { REASON, type SipMessage } from './message.js';

/**
 * A line break inside a value would end the header early and let the rest be read as other headers
 * (header injection); a break followed by whitespace is folding, which means a single space
 * (RFC 3261 §7.3.1), so every break is written as one space.
 */
function oneLine(s: string): string {
  return /[\r\n]/.test(s) ? s.replace(/[ \t]*[\r\n]+[ \t]*/g, ' ') : s;
}

export function serialize(msg: SipMessage): Buffer {
  let head =
    msg.type === 'request'
      ? `${msg.method} ${oneLine(msg.uri)} SIP/2.0\r\n`
      : `SIP/2.0 ${msg.status} ${oneLine(msg.reason || REASON[msg.status] || '')}\r\n`;
  for (const [name, value] of msg.headers.entries()) {
    if (name === 'Content-Length') continue;
    head += `${name}: ${oneLine(value)}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  const h = Buffer.from(head, 'utf8');
  return msg.body.length ? Buffer.concat([h, msg.body]) : h;
}
