/**
 * Media worker thread entry. Owns a slice of the RTP port range, the sessions on it and one pacer.
 * The main thread sends control messages only; packets never leave this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openEngine } from '../engine/open.js';
import { Pacer } from '../pacer.js';
import { PortPool } from '../ports.js';
import { CallMedia } from '../session.js';
import { SignalChannel } from '../webrtc/channel.js';
import { LOAD_REPORT_MS, type FromWorker, type ToWorker, type WorkerInit } from './protocol.js';
import { faults, guard } from '../../src/util/faults.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const pool = new PortPool(init.host, init.portMin, init.portMax);
const pacer = new Pacer(20);
const sessions = new Map<string, CallMedia>();
const channels = new Map<string, SignalChannel>();
const send = (m: FromWorker): void => port.postMessage(m);
// Faults contained in this thread (an RTP packet, a control message, an engine frame) are counted
// and logged where the metrics and the logger are: the main thread.
faults.onRecord((where, err, ctx) => {
  const callId = typeof ctx['callId'] === 'string' ? ctx['callId'] : undefined;
  send({ op: 'fault', where, message: err.message, ...(err.stack ? { stack: err.stack } : {}), ...(callId ? { callId } : {}) });
});

port.on('message', guard('media.worker.control', (m: ToWorker) => {
  switch (m.op) {
    case 'open':
      void open(m.req);
      return;
    case 'update':
      sessions.get(m.callId)?.update(m.params);
      return;
    case 'start':
      sessions.get(m.callId)?.start(m.custom);
      return;
    case 'dtmf':
      sessions.get(m.callId)?.dtmfFromCaller(m.digit);
      return;
    case 'event':
      sessions.get(m.callId)?.engineEvent(m.name, m.data);
      return;
    case 'dtmf-out':
      sessions.get(m.callId)?.dtmfToCaller(m.digits);
      return;
    case 'hold':
      sessions.get(m.callId)?.hold(m.on, m.kind);
      return;
    case 'engine-error':
      sessions.get(m.callId)?.engineError(m.code, m.message);
      return;
    case 'signal':
      channels.get(m.callId)?.deliver(m.signal);
      return;
    case 'close': {
      const s = sessions.get(m.callId);
      if (!s) return;
      sessions.delete(m.callId);
      s.close(m.reason);
      channels.get(m.callId)?.close(m.reason);
      channels.delete(m.callId);
      send({ op: 'closed', callId: m.callId, stats: s.stats });
      return;
    }
    case 'live':
      send({ op: 'live', reqId: m.reqId, calls: [...sessions.values()].map((s) => s.live()) });
      return;
    case 'stats': {
      const mem = process.memoryUsage();
      const lateness = pacer.takeLateness();
      send({
        op: 'stats',
        reqId: m.reqId,
        stats: { sessions: sessions.size, portsInUse: pool.inUse, portsFree: pool.available, pacerTicks: pacer.stats.ticks, pacerSkipped: pacer.stats.skipped, lateness, heapUsed: mem.heapUsed, rss: mem.rss },
      });
      return;
    }
  }
}, { context: (m: ToWorker) => ({ op: m.op, callId: (m as { callId?: string }).callId }) }));

async function open(req: ToWorker & { op: 'open' } extends { req: infer R } ? R : never): Promise<void> {
  try {
    const pair = await pool.allocate();
    // Only WebRTC engines get a signalling channel; openEngine hands it to their link.
    const chan = req.engine.kind === 'webrtc' ? new SignalChannel(init.host, (signal) => send({ op: 'signal', callId: req.callId, signal }), init.settings.ice) : undefined;
    if (chan) channels.set(req.callId, chan);
    const s = new CallMedia(pair, req, {
      pacer,
      settings: init.settings,
      openEngine: (t, r, rc, h, ms) => openEngine(t, r, rc, h, ms, chan),
      release: (p) => pool.release(p),
      emit: (ev) => {
        if (ev.type === 'ended') send({ op: 'ended', callId: req.callId, reason: ev.reason, ...(ev.detail ? { detail: ev.detail } : {}) });
        else if (ev.type === 'control') send({ op: 'control', callId: req.callId, control: ev.control });
        else if (ev.type === 'notice') send({ op: 'notice', callId: req.callId, text: ev.text });
        else send({ op: 'dtmf', callId: req.callId, digit: ev.digit });
      },
    });
    sessions.set(req.callId, s);
    send({ op: 'opened', callId: req.callId, port: pair.rtpPort });
  } catch (e) {
    send({ op: 'open-failed', callId: req.callId, error: (e as Error).message });
  }
}

// The pacer's lateness is the media plane's headroom: the main thread sheds new calls on it.
setInterval(guard('media.worker.load', () => send({ op: 'load', maxLateMs: pacer.takeWindowMaxLate() })), LOAD_REPORT_MS).unref();

send({ op: 'ready' });
