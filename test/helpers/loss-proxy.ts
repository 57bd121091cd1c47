/**
 * A UDP hop between SIPp and the gateway that drops chosen requests, for loss patterns too rare
 * to count on with SIPp's random -lost. SIPp sends everything here (-rsa); the gateway answers
 * SIPp directly (its Via has no rport), so only SIPp -> gateway traffic passes through.
 */
import dgram from 'node:dgram';

export interface LossProxy {
  port: number;
  /** Request lines dropped so far. */
  dropped: string[];
  close(): void;
}

/** `drop(requestLine, nth)` decides for each request (nth counts requests with that method, from 1). */
export async function startLossProxy(gateway: { address: string; port: number }, drop: (line: string, nth: number) => boolean): Promise<LossProxy> {
  const sock = dgram.createSocket('udp4');
  const seen = new Map<string, number>();
  const dropped: string[] = [];
  sock.on('message', (m) => {
    const line = m.subarray(0, Math.max(0, m.indexOf('\r\n'))).toString('latin1');
    const method = line.split(' ')[0] ?? '';
    const nth = (seen.get(method) ?? 0) + 1;
    seen.set(method, nth);
    if (drop(line, nth)) return void dropped.push(line);
    sock.send(m, gateway.port, gateway.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, dropped, close: () => sock.close() };
}
