/**
 * The reference (child process): a bare Node UDP relay. Per call a port pair: the caller side
 * latches the generator's address and forwards every packet from the engine side's socket to
 * the engine's UDP echo; what comes back goes out of the caller side to the generator. No
 * jitter buffer, no pacing, no transcoding.
 */
import dgram from 'node:dgram';
import { serve } from './ipc.js';

interface Pair { caller: dgram.Socket; engine: dgram.Socket; peer?: { address: string; port: number } }

let pairs: Pair[] = [];
let forwarded = 0;

const bind = (s: dgram.Socket): Promise<number> =>
  new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      resolve(s.address().port);
    });
  });

async function setup(n: number, enginePort: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const p: Pair = { caller: dgram.createSocket('udp4'), engine: dgram.createSocket('udp4') };
    ports.push(await bind(p.caller));
    await bind(p.engine);
    p.caller.on('message', (m, from) => {
      p.peer ??= { address: from.address, port: from.port };
      p.engine.send(m, enginePort, '127.0.0.1');
    });
    p.engine.on('message', (m) => {
      if (!p.peer) return;
      p.caller.send(m, p.peer.port, p.peer.address);
      forwarded++;
    });
    pairs.push(p);
  }
  return ports;
}

serve({
  setup: async (a) => ({ ports: await setup(Number(a['n']), Number(a['enginePort'])) }),
  teardown: () => {
    for (const p of pairs) {
      p.caller.close();
      p.engine.close();
    }
    const n = pairs.length;
    pairs = [];
    return { closed: n, forwarded };
  },
});
