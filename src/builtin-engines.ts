/**
 * The built-in engines (media/engine/builtin.ts: echo, demo) served over the gateway's own
 * protocol (twilio variant) on a loopback WebSocket, so `vagw engine-check builtin:echo` checks
 * the very engine the quick start runs, through the same wire an external engine uses: caller
 * `media` in, the engine's audio out as `media` events of 20 ms, DTMF to the engine, `stop`
 * closes with 1000.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { openBuiltin } from '../media/engine/builtin.js';
import type { EngineLink } from '../media/engine/link.js';
import { parseEngineMessage } from '../media/engine/wire.js';

export interface BuiltinServer {
  url: string;
  close(): Promise<void>;
}

const FRAME = 160;

function serveOne(ws: WebSocket, name: 'echo' | 'demo'): void {
  let sid = '';
  let engine: EngineLink | undefined;
  let seq = 0;
  const send = (audio: Buffer): void => {
    // The engine's audio as 20 ms media events, as an engine should send it.
    for (let off = 0; off < audio.length; off += FRAME) {
      ws.send(JSON.stringify({ event: 'media', sequenceNumber: String(++seq), streamSid: sid, media: { payload: audio.subarray(off, off + FRAME).toString('base64') } }));
    }
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (m['event']) {
      case 'start':
        sid = String(m['streamSid'] ?? '');
        engine ??= openBuiltin(name, { audio: send, mark: () => undefined, clear: () => undefined, control: () => undefined, closed: () => undefined });
        return;
      case 'media': {
        const a = parseEngineMessage(data, false, 'twilio', sid);
        if (a.kind === 'audio') engine?.sendAudio(a.payload, 0);
        return;
      }
      case 'dtmf': {
        const d = (m['dtmf'] as { digit?: unknown } | undefined)?.digit;
        if (typeof d === 'string') engine?.sendDtmf(d);
        return;
      }
      case 'stop':
        engine?.stop('stop');
        ws.close(1000, 'call ended');
        return;
    }
  });
  ws.on('close', () => engine?.stop('closed'));
}

/** Serves one built-in engine on 127.0.0.1 (an ephemeral port). */
export async function serveBuiltinEngine(name: 'echo' | 'demo'): Promise<BuiltinServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('connection', (ws) => serveOne(ws, name));
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/builtin/${name}`,
    close: () => new Promise((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    }),
  };
}
