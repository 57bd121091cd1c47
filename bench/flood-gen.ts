/**
 * The flood for bench:flood, in a process of its own: INVITEs (each a new Call-ID, to numbers no
 * agent has) from each given source address at the given rate, for the given seconds.
 *   node dist/bench/flood-gen.js <gatewayPort> <seconds> <address>:<rate> [<address>:<rate> ...]
 * Prints one JSON line: messages sent per source.
 */
import dgram from 'node:dgram';

const [portArg, secondsArg, ...sources] = process.argv.slice(2);
const port = Number(portArg);
const seconds = Number(secondsArg);

function invite(from: string, i: number): Buffer {
  const sdp = `v=0\r\no=- 1 1 IN IP4 ${from}\r\ns=-\r\nc=IN IP4 ${from}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
  return Buffer.from(
    `INVITE sip:+1555${String(i % 10_000_000).padStart(7, '0')}@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${from}:5099;branch=z9hG4bKfl${i}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:flood@${from}>;tag=fl${i}\r\nTo: <sip:+1555@127.0.0.1>\r\nCall-ID: flood-${i}@${from}\r\nCSeq: 1 INVITE\r\nContact: <sip:flood@${from}:5099>\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
  );
}

async function main(): Promise<void> {
  const sent: Record<string, number> = {};
  const runs = sources.map(async (spec) => {
    const [address, rateArg] = spec.split(':') as [string, string];
    const rate = Number(rateArg);
    const sock = dgram.createSocket('udp4');
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.bind(0, address, r));
    sent[address] = 0;
    const end = performance.now() + seconds * 1000;
    const started = performance.now();
    let i = 0;
    while (performance.now() < end) {
      // Catch up to where the rate says we should be, in 1 ms steps.
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; i < due; i++) sock.send(invite(address, i), port, '127.0.0.1');
      sent[address] = i;
      await new Promise((r) => setTimeout(r, 1));
    }
    sock.close();
  });
  await Promise.all(runs);
  process.stdout.write(JSON.stringify({ sent }) + '\n');
}

void main();
