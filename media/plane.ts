/** The media plane the gateway runs today: port pool + built-in engines on the main thread. */
import { EchoSession } from './echo.js';
import { PortPool } from './ports.js';
import type { MediaPlane, MediaSession } from './types.js';

export class EngineUnavailable extends Error {
  override readonly name = 'EngineUnavailable';
}

export class LocalMediaPlane implements MediaPlane {
  readonly ports: PortPool;
  private sessions = new Set<MediaSession>();

  constructor(host: string, portMin: number, portMax: number) {
    this.ports = new PortPool(host, portMin, portMax);
  }

  async open(_callId: string, engine: string): Promise<MediaSession> {
    if (engine !== 'builtin:echo') throw new EngineUnavailable(`engine ${engine} is not available in this build (only builtin:echo)`);
    const pair = await this.ports.allocate();
    const s: MediaSession = new EchoSession(pair, this.ports, () => this.sessions.delete(s));
    this.sessions.add(s);
    return s;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.close();
  }
}
