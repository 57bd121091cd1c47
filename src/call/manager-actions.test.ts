/**
 * The end of an answered call (its order; REFER declined then accepted; a failed contact-center
 * transfer; drain) and the call actions a contact center asks for, on the manager harness.
 */
import { describe, expect, it } from 'vitest';
import { answeredCall, answerRequest, expectWrappedUpOnce, inDialog, invite, nextSeq, reInvite, SDP, setup } from './manager-harness.js';

describe('CallManager: the end of an answered call', () => {
  it('engine hang-up ends in one order: BYE with its Reason, media closed, then term code and Ready', async () => {
    const env = await setup();
    const { inv, session } = await answeredCall(env, { platformId: 'TE' });
    const order: string[] = [];
    const setTermCode = env.adapter.setTermCode.bind(env.adapter);
    env.adapter.setTermCode = async (a, ids, code) => {
      order.push(`termCode (media closed: ${session.closed}, BYE sent: ${env.received.some((m) => m.type === 'request' && m.method === 'BYE')})`);
      return setTermCode(a, ids, code);
    };
    session.onControl!({ type: 'hangup', termCode: 'Resolved' });
    await env.settle();
    const bye = env.received.find((m) => m.type === 'request' && m.method === 'BYE')!;
    expect(bye.headers.get('Reason')).toMatch(/Virtual agent ended the call/);
    expect(order).toEqual(['termCode (media closed: true, BYE sent: true)']);
    await answerRequest(env, 'BYE', 200);
    expect(env.adapter.calls).toEqual(['termCode va-01 TE Resolved', 'ready va-01']);
    expect(session.closeReason).toBe('engine-hangup');
    expect(env.manager.calls.has(inv.callId)).toBe(false);
    expectWrappedUpOnce(env, 'va-01', 'TE', 'Resolved');
  });

  it('a REFER the caller side declines: the engine is told, the call goes on; the next try succeeds and ends it', async () => {
    const env = await setup();
    const { session } = await answeredCall(env, { platformId: 'TR' });
    session.onControl!({ type: 'transfer', target: 'sip:+15550100100@127.0.0.9' });
    await env.settle();
    const refer = env.received.find((m) => m.type === 'request' && m.method === 'REFER')!;
    expect(refer.headers.get('Refer-To')).toBe('<sip:+15550100100@127.0.0.9>');
    await answerRequest(env, 'REFER', 603);
    expect(session.errors).toEqual([{ code: 'transfer-failed', message: expect.stringContaining('603') }]);
    expect(env.manager.calls.size).toBe(1);
    expect(env.adapter.calls).toEqual([]);
    session.onControl!({ type: 'transfer', target: 'sip:+15550100100@127.0.0.9' });
    await env.settle();
    // RFC 3515 §2.4.4: the REFER's NOTIFY, even before its 2xx, belongs to the dialog: 200, not 405.
    const refer2 = [...env.received].reverse().find((m) => m.type === 'request' && m.method === 'REFER')!;
    const h = refer2.headers;
    await env.send([`NOTIFY sip:+18990000001@127.0.0.1:5060 SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-notify-${nextSeq()}`, 'Max-Forwards: 70', `From: ${h.get('To')}`, `To: ${h.get('From')}`, `Call-ID: ${h.get('Call-ID')}`, 'CSeq: 7 NOTIFY', 'Event: refer', 'Subscription-State: terminated;reason=noresource', 'Content-Type: message/sipfrag;version=2.0', 'Content-Length: 16', '', 'SIP/2.0 200 OK\r\n'].join('\r\n'));
    expect(env.responses(h.get('Call-ID')!, 'NOTIFY')[0]?.status).toBe(200);
    await answerRequest(env, 'REFER', 200);
    await answerRequest(env, 'BYE', 200);
    expectWrappedUpOnce(env, 'va-01', 'TR', env.link.cc.termCodes.transferred);
  });

  it('a contact-center transfer that fails: the engine is told and the call goes on', async () => {
    const env = await setup();
    const { session } = await answeredCall(env, { platformId: 'TV' });
    env.adapter.transfer = async () => {
      throw new Error('the human did not join within 30000 ms');
    };
    session.onControl!({ type: 'transfer', phonebook: 'Human Agents' });
    await env.settle();
    expect(session.errors).toEqual([{ code: 'transfer-failed', message: 'the human did not join within 30000 ms' }]);
    expect(env.manager.calls.size).toBe(1);
  });

  it('drain: new INVITEs get 503, calls still up after the timeout are ended with BYE, each wrapped up once', async () => {
    const env = await setup();
    await answeredCall(env, { platformId: 'DA' });
    await answeredCall(env, { to: '+18990000002', platformId: 'DB' });
    const drained = env.manager.drain(1000);
    const late = invite({ to: '+18990000003', platformId: 'DC' });
    await env.send(late.text);
    expect(env.finalOf(late.callId)?.status).toBe(503);
    await env.clock.run(1200, 100);
    const byes = env.received.filter((m) => m.type === 'request' && m.method === 'BYE');
    expect(byes).toHaveLength(2);
    for (const b of byes) expect(b.headers.get('Reason')).toMatch(/shutting down/);
    for (let i = 0; i < 2; i++) {
      const req = byes[i]!;
      const h = req.headers;
      await env.send([`SIP/2.0 200 OK`, ...h.getAll('Via').map((v) => `Via: ${v}`), `From: ${h.get('From')}`, `To: ${h.get('To')}`, `Call-ID: ${h.get('Call-ID')}`, `CSeq: ${h.get('CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n'));
    }
    await drained;
    expectWrappedUpOnce(env, 'va-01', 'DA', env.link.cc.termCodes.completed);
    expectWrappedUpOnce(env, 'va-02', 'DB', env.link.cc.termCodes.completed);
    expect(env.adapter.calls.some((c) => c.includes('DC'))).toBe(false);
  });
});

describe('CallManager: a bug in a platform policy at the end', () => {
  it('the call still ends completely (BYE, removed), the fault is counted, the agent stays out of service', async () => {
    const { faults } = await import('../util/faults.js');
    const env = await setup();
    env.link.policy.wrapUpPlan = () => {
      throw new TypeError('policy bug');
    };
    const before = faults.counts.get('call.wrap-up') ?? 0;
    const { session } = await answeredCall(env, { platformId: 'TX' });
    session.onControl!({ type: 'hangup' });
    await env.settle();
    expect(env.received.some((m) => m.type === 'request' && m.method === 'BYE')).toBe(true);
    await answerRequest(env, 'BYE', 200);
    expect(env.manager.calls.size).toBe(0);
    expect(faults.counts.get('call.wrap-up')).toBe(before + 1);
    expect(env.agent('va-01').state).toBe('busy');
  });
});

describe('CallManager: actions a contact center asks for', () => {
  it("answer policy 'on-accept': rings until the platform accepts, then answers", async () => {
    const env = await setup({ answer: 'on-accept' });
    const inv = invite({ platformId: 'TC' });
    await env.send(inv.text);
    expect(env.finalOf(inv.callId)).toBeUndefined();
    const outcomes: unknown[] = [];
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'accept' }, respond: (o) => outcomes.push(o) }, env.link);
    await env.settle();
    const ok = env.finalOf(inv.callId)!;
    expect(ok.status).toBe(200);
    await env.send(inDialog('ACK', inv, ok, 1));
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'accept' }, respond: (o) => outcomes.push(o) }, env.link);
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-02', action: { kind: 'hold' }, respond: (o) => outcomes.push(o) }, env.link);
    expect(outcomes).toEqual([{ ok: true }, { ok: false, status: 409, reason: expect.stringContaining('not waiting') }, { ok: false, status: 404, reason: expect.stringContaining('va-02') }]);
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'end', termCode: 'Sale' }, respond: (o) => outcomes.push(o) }, env.link);
    await env.settle();
    expect(env.received.some((m) => m.type === 'request' && m.method === 'BYE')).toBe(true);
    expect(env.adapter.calls).toEqual(['termCode va-01 TC Sale', 'ready va-01']);
  });

  it('mute and unmute from the platform reach the media (engine silenced toward the caller); refused once the call ended', async () => {
    const env = await setup();
    const inv = invite({ platformId: 'TM' });
    await env.send(inv.text);
    await env.settle();
    const ok = env.finalOf(inv.callId)!;
    await env.send(inDialog('ACK', inv, ok, 1));
    const session = env.media.sessions.find((s) => s.request.meta.sipCallId === inv.callId)!;
    const outcomes: unknown[] = [];
    const ask = (kind: 'mute' | 'unmute' | 'hold' | 'resume'): void => env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind }, respond: (o) => outcomes.push(o) }, env.link);
    ask('mute');
    ask('hold');
    ask('resume');
    ask('unmute');
    expect(session.holds).toEqual(['mute true', 'hold true', 'hold false', 'mute false']);
    expect(outcomes).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'end' } }, env.link);
    await env.settle();
    ask('mute');
    expect(outcomes[4]).toEqual({ ok: false, status: 404, reason: expect.stringContaining('va-01') });
  });

  it("a release naming another of the platform's calls (the agent's previous one, delivered late) leaves the call alone", async () => {
    const env = await setup();
    const inv = invite({ platformId: 'TN' });
    await env.send(inv.text);
    await env.settle();
    await env.send(inDialog('ACK', inv, env.finalOf(inv.callId)!, 1));
    const outcomes: unknown[] = [];
    env.manager.platformEvent({ type: 'call-released', agentId: 'va-01', ids: { transactionId: 'OLD' } }, env.link);
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', ids: { transactionId: 'OLD' }, action: { kind: 'mute' }, respond: (o) => outcomes.push(o) }, env.link);
    await env.settle();
    expect(env.manager.calls.size).toBe(1);
    expect(outcomes).toEqual([{ ok: false, status: 409, reason: "transactionId OLD is not the agent's current call" }]);
    env.manager.platformEvent({ type: 'call-released', agentId: 'va-01', ids: { transactionId: 'TN' } }, env.link);
    await env.settle();
    expect(env.received.some((m) => m.type === 'request' && m.method === 'BYE')).toBe(true);
  });

  it("answer policy 'on-accept' and no accept: 480 after the bound, one wrap-up", async () => {
    const env = await setup({ answer: 'on-accept' });
    const inv = invite({ platformId: 'TD' });
    await env.send(inv.text);
    await env.clock.run(31_000, 1000);
    expect(env.finalOf(inv.callId)?.status).toBe(480);
    expectWrappedUpOnce(env, 'va-01', 'TD', env.link.cc.termCodes.failed);
  });
});

describe('CallManager: hold and resume reach the caller as re-INVITEs (RFC 3264 §8.4, RFC 3261 §14)', () => {
  const lastRequest = (env: Awaited<ReturnType<typeof setup>>, method: string) => [...env.received].reverse().find((m) => m.type === 'request' && m.method === method);
  /** Our INVITEs, one per transaction (UDP retransmissions left out). */
  const invites = (env: Awaited<ReturnType<typeof setup>>) => {
    const all = env.received.filter((m) => m.type === 'request' && m.method === 'INVITE');
    return all.filter((m, i) => all.findIndex((x) => x.headers.get('CSeq') === m.headers.get('CSeq')) === i);
  };

  it('hold offers sendonly (o= version + 1), the answer recvonly is applied and ACKed; resume offers sendrecv', async () => {
    const env = await setup();
    const { inv, session } = await answeredCall(env, { platformId: 'TH' });
    const ask = (kind: 'hold' | 'resume'): void => env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind } }, env.link);
    ask('hold');
    await env.settle();
    const hold = lastRequest(env, 'INVITE')!;
    const offer = hold.body.toString();
    expect(offer).toMatch(/^o=vagw \d+ 2 IN IP4 /m);
    expect(offer).toMatch(/^a=sendonly$/m);
    expect(offer).not.toMatch(/^a=sendrecv$/m);
    await answerRequest(env, 'INVITE', 200, SDP.replace('a=sendrecv', 'a=recvonly').replace('m=audio 4000', 'm=audio 4002'));
    const ack = lastRequest(env, 'ACK')!;
    expect(ack.headers.get('CSeq')).toBe(hold.headers.get('CSeq')!.replace('INVITE', 'ACK'));
    expect(session.params).toMatchObject({ direction: 'sendonly', remote: { address: '127.0.0.2', port: 4002 } });
    expect(session.holds).toEqual(['hold true']);
    ask('resume');
    await env.settle();
    const resume = lastRequest(env, 'INVITE')!.body.toString();
    expect(resume).toMatch(/^o=vagw \d+ 3 IN IP4 /m);
    expect(resume).toMatch(/^a=sendrecv$/m);
    await answerRequest(env, 'INVITE', 200, SDP);
    expect(session.params).toMatchObject({ direction: 'sendrecv' });
    expect(session.holds).toEqual(['hold true', 'hold false']);
    expect(env.manager.calls.get(inv.callId)?.state).toBe('active');
  });

  it('glare: the caller offers while ours is pending (491 to theirs), ours meets 491 and is sent again after the §14.1 wait', async () => {
    const env = await setup();
    const { inv, ok } = await answeredCall(env, { platformId: 'TG' });
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'hold' } }, env.link);
    await env.settle();
    expect(invites(env).length).toBe(1);
    await env.send(reInvite(inv, ok, 2, SDP));
    expect(env.responses(inv.callId, 'INVITE').at(-1)?.status).toBe(491);
    await answerRequest(env, 'INVITE', 491);
    expect(invites(env).length).toBe(1);
    // We did not send the first INVITE: the wait is 0-2 s (§14.1).
    await env.clock.run(2010);
    expect(invites(env).length).toBe(2);
    const again = invites(env)[1]!;
    expect(again.body.toString()).toMatch(/^a=sendonly$/m);
    expect(Number(again.headers.get('CSeq')!.split(' ')[0])).toBe(Number(invites(env)[0]!.headers.get('CSeq')!.split(' ')[0]) + 1);
    await answerRequest(env, 'INVITE', 200, SDP.replace('a=sendrecv', 'a=recvonly'));
    expect(env.media.sessions[0]!.params).toMatchObject({ direction: 'sendonly' });
  });

  it('a refused hold offer (488) leaves the session as it was; the media hold still applies', async () => {
    const env = await setup();
    const { session } = await answeredCall(env, { platformId: 'TF' });
    const before = session.params;
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'hold' } }, env.link);
    await env.settle();
    await answerRequest(env, 'INVITE', 488);
    expect(session.params).toBe(before);
    expect(session.holds).toEqual(['hold true']);
    // The next offer reuses the version of the refused one (the session did not change, RFC 3264 §8).
    env.manager.platformEvent({ type: 'call-action', agentId: 'va-01', action: { kind: 'resume' } }, env.link);
    await env.settle();
    expect(lastRequest(env, 'INVITE')!.body.toString()).toMatch(/^o=vagw \d+ 2 IN IP4 /m);
  });
});

