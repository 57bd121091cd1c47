/**
 * From a routed INVITE to an answered call. The Call exists before this runs and owns the agent's
 * lease: every refusal or failure here (no SDP offer, SDP not acceptable, no media, no WebRTC far
 * end, CANCEL, the contact center not accepting, draining) is one `call.end(reason, refusal)`,
 * which answers the INVITE, closes what was opened and runs the wrap-up exactly once.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.js';
import { resolveEngine } from '../config/engines.js';
import type { Lease } from './router.js';
import type { SipRequest } from '../sip/message.js';
import { answerOffer, readAnswer, reoffer, SdpError, type NegotiatedMedia } from '../sip/sdp.js';
import type { IncomingInvite } from '../sip/ua.js';
import { sleep, type Clock } from '../util/clock.js';
import type { MediaPlane, MediaSession } from '../../media/types.js';
import type { VendorCallIds } from '../vendors/types.js';
import type { Call } from './call.js';
import { answerDtmfInfo } from './dtmf.js';
import { customParams, streamMeta, vendorIdsFromInvite, type IdsFromInvite } from './meta.js';
import { fetchCallContext, type ContactCenterLink } from './lockstep.js';
import type { ProfileRuntime } from './profile-runtime.js';
import { bridgeWebRtc } from './webrtc/bridge.js';
import type { WebRtcFarEnds } from './webrtc/sources.js';
import type { WrapUpRunner } from './wrapup.js';

/** How long a call waits for its contact center to accept it (answer policy 'on-accept'). */
export const ACCEPT_TIMEOUT_MS = 30_000;

export interface SetupContext {
  config: GatewayConfig;
  media: MediaPlane;
  webrtc: WebRtcFarEnds;
  clock: Clock;
  /** The media session's key: minted by the gateway, unique for the life of the process. */
  mediaKey: string;
  /** The SDP o= session id of our answers (RFC 4566 §5.2: unique per session). */
  sdpSessionId: string;
  draining(): boolean;
  answered(): void;
  /** The call is answered for a contact center, with these ids of it (again once they resolve): kept on disk until its wrap-up is. */
  opened?(ids: VendorCallIds): void;
  link?: ContactCenterLink;
  wrapUp?: WrapUpRunner;
  /** Without a contact center: how the engine still gets a platform's ids from the INVITE. */
  idsFromInvite?: IdsFromInvite;
}

export async function setUpCall(ctx: SetupContext, rt: ProfileRuntime, inv: IncomingInvite, call: Call, routed: Lease): Promise<void> {
  const { config, link } = ctx;
  const retry = { 'Retry-After': String(config.gateway.limits.retryAfterSeconds) };
  const offer = inv.offer;
  if (!offer) return void call.end('refused', { status: 488, reason: 'INVITE without SDP offer is not supported' });
  const engine = resolveEngine(config, routed.agent.engine, rt.profile);
  const farEnds = engine.kind === 'webrtc' ? ctx.webrtc.source(engine.name) : undefined;
  if (engine.kind === 'webrtc') {
    const why = farEnds ? farEnds.unavailable(routed.agent.id) : 'WebRTC over SIP needs a profile with listen.websocket';
    if (why) return void call.end('refused', { status: 480, reason: why });
  }
  const meta = streamMeta(config.gateway.name, rt.profile.name, routed.agent, inv, link ? link.policy.idsFromInvite : ctx.idsFromInvite);
  call.callSid = meta.callSid;
  call.engineName = routed.agent.engine;
  let session: MediaSession;
  try {
    session = await ctx.media.open({ callId: ctx.mediaKey, engine, meta, failure: rt.profile.engineFailure });
  } catch (e) {
    call.log.error({ err: (e as Error).message }, 'no media session for call');
    return void call.end('refused', { status: 503, reason: `Media unavailable: ${(e as Error).message}`, headers: retry });
  }
  // A call that ended meanwhile (CANCEL) closes the session here: nothing is left open.
  call.attachMedia(session);
  if (call.hasEnded) return;

  const sessionId = ctx.sdpSessionId;
  let version = 1;
  const answer = (sdp: string): { sdp: string; media: NegotiatedMedia } =>
    answerOffer(sdp, { address: config.media.host, port: session.localPort, codecs: rt.profile.codecs, ptime: rt.profile.ptime, sessionId, sessionVersion: version++ });
  let first;
  try {
    first = answer(offer);
  } catch (e) {
    if (e instanceof SdpError) return void call.end('refused', { status: 488, reason: e.message });
    throw e;
  }
  const agentId = routed.agent.id;
  if (link) call.vendor = { adapter: link.adapter, agentId };
  const wrapUp = ctx.wrapUp;
  if (link && wrapUp) {
    call.onContactUpdate = async (fields) => {
      const account = call.vendorIds?.['account'] ?? call.screenPop?.['accountNumber'] ?? fields['account'];
      if (!account) return call.media.engineError('not-possible', 'updateContact: the call has no contact account (none in the screen pop, none in fields.account)');
      await wrapUp.add([{ kind: 'contact', agentId, callId: `${call.info.key}:contact:${ctx.clock.wall()}`, account, fields }]);
    };
  }
  if (farEnds) bridgeWebRtc(call, session, farEnds, meta);

  if (link?.policy.answer === 'on-accept') {
    // The platform decides when its agent takes the call (its `accept` action).
    inv.ring();
    if (!(await call.awaitAccept(ACCEPT_TIMEOUT_MS))) return void call.end('platform-ended', { status: 480, reason: 'The contact center did not accept the call' });
  } else if (rt.profile.answerDelayMs > 0) {
    inv.ring();
    await sleep(ctx.clock, rt.profile.answerDelayMs);
  }
  if (call.hasEnded) return;
  if (inv.state !== 'pending') return void call.end('caller-cancel');
  if (ctx.draining()) return void call.end('drain', { status: 503, reason: 'Gateway draining for shutdown', headers: retry });

  const dialog = inv.accept(first.sdp, call.log);
  session.update(first.media);
  let local = first.sdp;
  let current = first.media;
  // Our hold and resume reach the caller as new offers (RFC 3264 §8.4); a refused one changes nothing.
  call.reoffer = async (direction) => {
    const v = version;
    const offer = reoffer(local, direction, v);
    const r = await dialog.reoffer(offer);
    if (!r.ok) return r.status;
    version = v + 1;
    local = offer;
    try {
      current = readAnswer(r.answer, current);
      session.update(current);
    } catch (e) {
      call.log.warn({ err: (e as Error).message }, 'the answer to our re-INVITE is unusable: media unchanged');
    }
    return 200;
  };
  ctx.answered();
  if (link) ctx.opened?.(vendorIdsFromInvite(inv, link.policy.idsFromInvite));
  call.answered(dialog, rt.profile.maxCallSeconds);
  call.log.info({ codec: first.media.codec.name, remote: first.media.remote, transport: inv.flow.transport }, 'call answered');
  dialog.handler = {
    offer: (sdp) => {
      if (sdp === undefined) return { status: 488, reason: 'Re-INVITE without SDP offer is not supported' };
      try {
        const a = answer(sdp);
        local = a.sdp;
        current = a.media;
        session.update(a.media);
        call.directionChanged(a.media.direction);
        return { sdp: a.sdp };
      } catch (e) {
        if (e instanceof SdpError) return { status: 488, reason: e.message };
        throw e;
      }
    },
    info: (req: SipRequest) => answerDtmfInfo(req.headers.get('Content-Type') ?? '', req.body, (d) => call.dtmf(d)),
  };
  if (!link) return session.start();
  await startWithContext(link, call, session, inv, meta.custom, ctx.clock, call.log);
  // Ended meanwhile: its wrap-up has the ids and its open record is gone; never reopen it.
  if (!call.hasEnded && call.vendorIds) ctx.opened?.(call.vendorIds);
}

/**
 * Vendor ids and the screen pop go to the engine in its `start` (a late pop follows as an event).
 * The call is already up meanwhile, so a hang-up during the fetch ends it normally.
 */
async function startWithContext(link: ContactCenterLink, call: Call, session: MediaSession, inv: IncomingInvite, metaCustom: Record<string, string>, clock: Clock, log: Logger): Promise<void> {
  const hint = vendorIdsFromInvite(inv, link.policy.idsFromInvite);
  const ctx = await fetchCallContext(link, call.info.agentId, hint, log, (pop) => session.engineEvent('screenPop', pop), clock);
  call.vendorIds = ctx.ids;
  if (ctx.screenPop) call.screenPop = ctx.screenPop;
  const custom = customParams(ctx.ids, ctx.screenPop);
  // A WebRTC far end gets the same metadata in its offer as a stream engine in its `start`.
  Object.assign(metaCustom, custom);
  if (!call.hasEnded) session.start(custom);
}
