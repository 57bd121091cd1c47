/** Where WebRTC far ends come from, by engine reference: 'webrtc:sip' and 'webrtc:attach'. */
import type { Logger } from 'pino';
import type { AgentPool } from '../../agents/pool.js';
import { normalizeNumber } from '../../config/numbers.js';
import type { GatewayConfig } from '../../config/types.js';
import type { UserAgent } from '../../sip/ua.js';
import type { Registrar } from '../registrar.js';
import { AttachHub } from './attach-hub.js';
import type { FarEndSource } from './far-end.js';
import { SipFarEndSource } from './sip-far-end.js';

export class WebRtcFarEnds {
  readonly attach: AttachHub;
  private sip?: SipFarEndSource;

  constructor(
    private readonly config: GatewayConfig,
    private readonly agents: AgentPool,
    private readonly log: Logger,
  ) {
    this.attach = new AttachHub({
      ...(config.gateway.attachToken ? { token: config.gateway.attachToken } : {}),
      resolveAgent: (ref) => this.resolveAgent(ref),
      log: log.child({ component: 'webrtc-attach' }),
    });
  }

  /** The profile with listen.websocket has a registrar: its agents can take calls in SIP.js. */
  useSip(registrar: Registrar, ua: UserAgent): void {
    this.sip = new SipFarEndSource({
      registrar,
      ua,
      numberOf: (id) => this.agents.list().find((a) => a.id === id)?.number,
      log: this.log,
    });
  }

  source(name: 'sip' | 'attach'): FarEndSource | undefined {
    return name === 'attach' ? this.attach : this.sip;
  }

  /** An agent id, or its number in any form the agent's profile normalises (E.164, national, ...). */
  private resolveAgent(ref: string): string | undefined {
    const all = this.agents.list();
    const byId = all.find((a) => a.id === ref);
    if (byId) return byId.id;
    for (const p of this.config.profiles) {
      const key = normalizeNumber(ref, p.numberNormalization);
      if (key === null) continue;
      const a = all.find((x) => x.profile === p.name && x.key === key);
      if (a) return a.id;
    }
    return undefined;
  }

  close(): void {
    this.attach.close();
  }
}
