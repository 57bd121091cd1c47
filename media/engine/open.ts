/**
 * Opens the engine for a session: a builtin in-process, a WebSocket engine (EngineConnection for
 * the gateway's protocol, DialectLink for jambonz and Asterisk), or
 * a WebRTC far end (media/webrtc, which needs the session's signalling channel).
 */
import { openWebRtc, type WebRtcSignalling } from '../webrtc/link.js';
import { openBuiltin } from './builtin.js';
import { EngineConnection } from './connection.js';
import { DialectLink } from './dialects/link.js';
import type { EngineHandlers, EngineLink } from './link.js';
import type { EngineTarget, OpenRequest } from '../types.js';

export async function openEngine(target: EngineTarget, req: OpenRequest, reconnect: boolean, h: EngineHandlers, timeoutMs: number, webrtc?: WebRtcSignalling): Promise<EngineLink> {
  if (target.kind === 'builtin') return openBuiltin(target.name, h);
  if (target.kind === 'webrtc') {
    if (!webrtc) throw new Error('WebRTC engine needs a signalling channel (the media worker provides one)');
    return openWebRtc(target, h, webrtc, timeoutMs);
  }
  const timeout = timeoutMs > 0 ? timeoutMs : target.connectTimeoutMs;
  if (target.protocol === 'jambonz' || target.protocol === 'asterisk') {
    const spec = target.protocol === 'jambonz' ? { protocol: target.protocol, jambonz: target.jambonz! } : { protocol: target.protocol, asterisk: target.asterisk! };
    return DialectLink.open(spec, {
      url: target.url,
      meta: req.meta,
      reconnect,
      timeoutMs: timeout,
      tls: { rejectUnauthorized: target.tlsRejectUnauthorized },
      ...(target.secret ? { secret: target.secret } : {}),
    }, h);
  }
  const opts = {
    url: target.url,
    protocol: target.protocol,
    meta: req.meta,
    reconnect,
    connectTimeoutMs: timeout,
    tls: { rejectUnauthorized: target.tlsRejectUnauthorized },
    ...(target.secret ? { secret: target.secret } : {}),
  };
  const c = await EngineConnection.open(opts);
  c.onAudio = h.audio;
  c.onMark = h.mark;
  c.onClear = h.clear;
  c.onControl = h.control;
  c.onClose = h.closed;
  return {
    format: target.protocol === 'l16' ? 'l16-16k' : 'mulaw8k',
    sendAudio: (f, ts) => void c.sendAudio(f, ts),
    sendDtmf: (d) => void c.sendDtmf(d),
    sendMark: (n) => void c.sendMark(n),
    sendEvent: (n, d) => void c.sendEvent(n, d as Record<string, unknown> as never),
    sendError: (code, m) => void c.sendError(code, m),
    stop: (r) => c.stop(r),
  };
}
