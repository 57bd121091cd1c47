/**
 * Every exit of an INVITE once it is routed to an agent, without sockets or sleeps: the SIP
 * endpoint on an in-memory datagram network, a fake media plane, an in-memory outbox and one fake
 * clock. Each path shows the INVITE's final answer, exactly one wrap-up (disposition then Ready),
 * the lease released once the platform has the agent Ready, and no media port left in use.
 */
import { describe, expect, it } from 'vitest';
import { cancel, expectWrappedUpOnce, G729_ONLY, invite, inDialog, setup } from './manager-harness.js';

describe('CallManager: every exit of a routed INVITE goes through the call end', () => {
  it('an INVITE without SDP: 488, one wrap-up, lease back', async () => {
    const env = await setup();
    const inv = invite({ sdp: null, platformId: 'T1' });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)?.status).toBe(488);
    expectWrappedUpOnce(env, 'va-01', 'T1', env.link.cc.termCodes.failed);
  });

  it('an SDP offer with no common codec: 488 with the reason', async () => {
    const env = await setup();
    const inv = invite({ sdp: G729_ONLY, platformId: 'T2' });
    await env.send(inv.text);
    const final = env.finalOf(inv.callId)!;
    expect(final.status).toBe(488);
    expect(final.reason).toMatch(/codec/i);
    expectWrappedUpOnce(env, 'va-01', 'T2', env.link.cc.termCodes.failed);
  });

  it('no media: 503 with Retry-After', async () => {
    const env = await setup();
    env.media.mode = 'fail';
    const inv = invite({ platformId: 'T3' });
    await env.send(inv.text);
    const final = env.finalOf(inv.callId)!;
    expect(final.status).toBe(503);
    expect(final.headers.get('Retry-After')).toBe('5');
    expectWrappedUpOnce(env, 'va-01', 'T3', env.link.cc.termCodes.failed);
  });

  it('a WebRTC agent with no far end: 480 naming why', async () => {
    const env = await setup();
    const inv = invite({ to: '+18990000003', platformId: 'T4' });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)?.status).toBe(480);
    expectWrappedUpOnce(env, 'va-03', 'T4', env.link.cc.termCodes.failed);
  });

  it('CANCEL while the media session is being opened: 487, the late session closed, one wrap-up', async () => {
    const env = await setup();
    env.media.mode = 'hold';
    const inv = invite({ platformId: 'T5' });
    await env.send(inv.text);
    await env.send(cancel(inv));
    expect(env.finalOf(inv.callId)?.status).toBe(487);
    expect(env.responses(inv.callId, 'CANCEL')[0]?.status).toBe(200);
    env.media.releaseOpen();
    await env.settle();
    expect(env.media.sessions[0]!.closed).toBe(true);
    expectWrappedUpOnce(env, 'va-01', 'T5', env.link.cc.termCodes.callerHungUp);
  });

  it('CANCEL while ringing (answer delay): 487 and one wrap-up', async () => {
    const env = await setup({ profile: '    answerDelayMs: 2000\n' });
    const inv = invite({ platformId: 'T6' });
    await env.send(inv.text);
    expect(env.responses(inv.callId).some((r) => r.status === 180)).toBe(true);
    await env.send(cancel(inv));
    await env.clock.run(2500);
    expect(env.finalOf(inv.callId)?.status).toBe(487);
    expect(env.responses(inv.callId).filter((r) => r.status === 200)).toHaveLength(0);
    expectWrappedUpOnce(env, 'va-01', 'T6', env.link.cc.termCodes.callerHungUp);
  });

  it('draining while ringing: 503, one wrap-up', async () => {
    const env = await setup({ profile: '    answerDelayMs: 2000\n' });
    const inv = invite({ platformId: 'T7' });
    await env.send(inv.text);
    env.manager.draining = true;
    await env.clock.run(2500);
    expect(env.finalOf(inv.callId)?.status).toBe(503);
    expectWrappedUpOnce(env, 'va-01', 'T7', env.link.cc.termCodes.completed);
  });

  it('an internal error during setup: 500, counted, one wrap-up, the session closed', async () => {
    const env = await setup();
    env.media.mode = 'faulty';
    const inv = invite({ platformId: 'T8' });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)?.status).toBe(500);
    expect(env.media.sessions[0]!.closed).toBe(true);
    expectWrappedUpOnce(env, 'va-01', 'T8', env.link.cc.termCodes.failed);
  });

  it('a call the platform never routed and that is refused: no wrap-up at all, lease back at once', async () => {
    const env = await setup();
    const inv = invite({ sdp: null });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)?.status).toBe(488);
    expect(env.adapter.calls).toEqual([]);
    expect(env.agent('va-01').state).toBe('ready');
  });

  it('answered, then BYE: 200, term code then Ready, once', async () => {
    const env = await setup();
    const inv = invite({ platformId: 'T9' });
    await env.send(inv.text);
    const ok = env.finalOf(inv.callId)!;
    expect(ok.status).toBe(200);
    expect(env.agent('va-01').state).toBe('busy');
    await env.send(inDialog('ACK', inv, ok, 1));
    await env.send(inDialog('BYE', inv, ok, 2));
    expect(env.responses(inv.callId, 'BYE')[0]?.status).toBe(200);
    await env.send(inDialog('BYE', inv, ok, 2)); // a retransmitted BYE changes nothing
    expectWrappedUpOnce(env, 'va-01', 'T9', env.link.cc.termCodes.callerHungUp);
  });

  it('an answered call is on record as open until its wrap-up is in the outbox (a crash meanwhile is wrapped up at the next start)', async () => {
    const env = await setup();
    const inv = invite({ platformId: 'T10' });
    await env.send(inv.text);
    const ok = env.finalOf(inv.callId)!;
    expect(ok.status).toBe(200);
    expect(env.openCalls.list().map((c) => [c.callId, c.agentId, c.profile, c.ids['transactionId']])).toEqual([[inv.callId, 'va-01', 'unit', 'T10']]);
    await env.send(inDialog('ACK', inv, ok, 1));
    await env.send(inDialog('BYE', inv, ok, 2));
    expectWrappedUpOnce(env, 'va-01', 'T10', env.link.cc.termCodes.callerHungUp);
  });

  it('two INVITEs with the same Call-ID and different From tags: two calls, nothing leaks', async () => {
    const env = await setup();
    const a = invite({ callId: 'same@127.0.0.2', fromTag: 'alpha', platformId: 'TA' });
    const b = invite({ callId: 'same@127.0.0.2', fromTag: 'beta', to: '+18990000002', platformId: 'TB' });
    env.media.mode = 'hold';
    await env.send(a.text);
    await env.send(b.text);
    env.media.releaseOpen();
    await env.settle();
    const oks = env.responses('same@127.0.0.2').filter((r) => r.status === 200);
    expect(oks.map((r) => r.headers.get('From'))).toEqual([expect.stringContaining('alpha'), expect.stringContaining('beta')]);
    expect(env.manager.calls.size).toBe(2);
    expect(new Set(env.media.sessions.map((s) => s.request.callId)).size).toBe(2);
    for (const [inv, ok] of [[a, oks[0]!], [b, oks[1]!]] as const) {
      await env.send(inDialog('ACK', inv, ok, 1));
      await env.send(inDialog('BYE', inv, ok, 2));
    }
    expectWrappedUpOnce(env, 'va-01', 'TA', env.link.cc.termCodes.callerHungUp);
    expectWrappedUpOnce(env, 'va-02', 'TB', env.link.cc.termCodes.callerHungUp);
  });

  it('the same Call-ID and From tag in a new transaction while the call is up: 482 (merged request)', async () => {
    const env = await setup();
    const a = invite({ callId: 'merged@127.0.0.2', fromTag: 'same', platformId: 'TM' });
    await env.send(a.text);
    const again = invite({ callId: 'merged@127.0.0.2', fromTag: 'same', to: '+18990000002' });
    await env.send(again.text);
    expect(env.responses('merged@127.0.0.2').filter((r) => r.status >= 200).map((r) => r.status)).toEqual([200, 482]);
    expect(env.agent('va-02').state).toBe('ready');
  });
});

