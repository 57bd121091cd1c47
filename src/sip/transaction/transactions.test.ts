/** The four RFC 3261 transaction machines driven by a fake clock (timers are inputs). */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../clock.js';
import { newRequest, newResponse, SipHeaders, type SipRequest, type SipResponse } from '../message.js';
import { InviteServerTransaction } from './server-invite.js';
import { NonInviteServerTransaction } from './server-non-invite.js';
import { NonInviteClientTransaction } from './client-non-invite.js';
import { InviteClientTransaction } from './client-invite.js';
import { DEFAULT_TIMERS } from './timers.js';

function req(method: string): SipRequest {
  const h = new SipHeaders()
    .add('Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc')
    .add('From', '<sip:a@x>;tag=1')
    .add('To', '<sip:b@y>')
    .add('Call-ID', 'c1')
    .add('CSeq', `1 ${method}`);
  return newRequest(method, 'sip:b@y', h);
}
const res = (status: number): SipResponse => newResponse(status, 'x', new SipHeaders().add('To', '<sip:b@y>;tag=9').add('CSeq', '1 INVITE'));

function serverDeps(reliable = false) {
  const clock = new FakeClock();
  const sent: number[] = [];
  const events: string[] = [];
  return {
    clock,
    sent,
    events,
    deps: {
      clock,
      timers: DEFAULT_TIMERS,
      reliable,
      send: (r: SipResponse) => sent.push(r.status),
      onTimeout: () => events.push('timeout'),
      onTerminated: () => events.push('terminated'),
    },
  };
}

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026)', () => {
  it('re-answers a retransmitted INVITE with the last provisional, then the final', () => {
    const { deps, sent } = serverDeps();
    const tx = new InviteServerTransaction(req('INVITE'), deps);
    tx.respond(res(100));
    tx.receive(req('INVITE'));
    expect(sent).toEqual([100, 100]);
    tx.respond(res(486));
    tx.receive(req('INVITE'));
    expect(sent).toEqual([100, 100, 486, 486]);
  });

  it('retransmits a non-2xx final on Timer G (T1 doubling, capped at T2) until ACK', () => {
    const { deps, sent, clock, events } = serverDeps();
    const tx = new InviteServerTransaction(req('INVITE'), deps);
    tx.respond(res(404));
    clock.advance(500); // G=500
    clock.advance(1000); // G=1000
    clock.advance(2000); // G=2000
    clock.advance(4000); // G=4000 (T2)
    clock.advance(4000); // stays at T2
    expect(sent).toEqual([404, 404, 404, 404, 404, 404]);
    tx.receive(req('ACK'));
    expect(tx.state).toBe('confirmed');
    clock.advance(10_000);
    expect(sent.length).toBe(6);
    expect(tx.state).toBe('terminated');
    expect(events).toEqual(['terminated']);
  });

  it('Timer H ends a transaction whose ACK never comes', () => {
    const { deps, clock, events } = serverDeps();
    const tx = new InviteServerTransaction(req('INVITE'), deps);
    tx.respond(res(480));
    clock.advance(64 * 500);
    expect(events).toEqual(['timeout', 'terminated']);
    expect(clock.pending).toBe(0);
  });

  it('does not retransmit on reliable transports and Timer I is zero', () => {
    const { deps, sent, clock } = serverDeps(true);
    const tx = new InviteServerTransaction(req('INVITE'), deps);
    tx.respond(res(503));
    clock.advance(10_000);
    expect(sent).toEqual([503]);
    tx.receive(req('ACK'));
    expect(tx.state).toBe('terminated');
  });

  it('absorbs INVITE retransmissions in Accepted and ends on Timer L', () => {
    const { deps, sent, clock } = serverDeps();
    const tx = new InviteServerTransaction(req('INVITE'), deps);
    tx.respond(res(200));
    expect(tx.state).toBe('accepted');
    tx.receive(req('INVITE'));
    expect(sent).toEqual([200]);
    tx.respond(res(200)); // the TU's own 2xx retransmission passes through
    expect(sent).toEqual([200, 200]);
    clock.advance(64 * 500);
    expect(tx.state).toBe('terminated');
  });
});

describe('non-INVITE server transaction (§17.2.2)', () => {
  it('absorbs in Trying, re-answers in Completed, ends on Timer J', () => {
    const { deps, sent, clock } = serverDeps();
    const tx = new NonInviteServerTransaction(req('BYE'), deps);
    tx.receive(req('BYE'));
    expect(sent).toEqual([]);
    tx.respond(res(200));
    tx.receive(req('BYE'));
    expect(sent).toEqual([200, 200]);
    clock.advance(64 * 500 - 1);
    expect(tx.state).toBe('completed');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
  });

  it('ends at once on a reliable transport', () => {
    const { deps } = serverDeps(true);
    const tx = new NonInviteServerTransaction(req('OPTIONS'), deps);
    tx.respond(res(200));
    expect(tx.state).toBe('terminated');
  });
});

function clientDeps(reliable = false) {
  const clock = new FakeClock();
  const sent: string[] = [];
  const got: number[] = [];
  const events: string[] = [];
  return {
    clock,
    sent,
    got,
    events,
    deps: {
      clock,
      timers: DEFAULT_TIMERS,
      reliable,
      send: (r: SipRequest) => sent.push(r.method),
      onResponse: (r: SipResponse) => got.push(r.status),
      onTimeout: () => events.push('timeout'),
      onTerminated: () => events.push('terminated'),
    },
  };
}

describe('non-INVITE client transaction (§17.1.2)', () => {
  it('retransmits on Timer E (doubling to T2) and times out on Timer F', () => {
    const { deps, sent, clock, events } = clientDeps();
    new NonInviteClientTransaction(req('BYE'), deps).start();
    clock.advance(64 * 500);
    // 0, 500, 1500, 3500, 7500, 11500, ... every 4 s until 32 s
    expect(sent.length).toBe(11);
    expect(events).toEqual(['timeout', 'terminated']);
  });

  it('retransmits every T2 once Proceeding, then completes and waits Timer K', () => {
    const { deps, sent, clock, got } = clientDeps();
    const tx = new NonInviteClientTransaction(req('BYE'), deps);
    tx.start();
    tx.receive(res(100));
    clock.advance(500);
    clock.advance(4000);
    expect(sent.length).toBe(3);
    tx.receive(res(200));
    tx.receive(res(200));
    expect(got).toEqual([100, 200]);
    clock.advance(5000);
    expect(tx.state).toBe('terminated');
  });
});

describe('INVITE client transaction (§17.1.1, RFC 6026)', () => {
  it('ACKs a non-2xx final itself with the INVITE branch, and re-ACKs retransmissions', () => {
    const { deps, sent, got, clock } = clientDeps();
    const tx = new InviteClientTransaction(req('INVITE'), deps);
    tx.start();
    clock.advance(500);
    expect(sent).toEqual(['INVITE', 'INVITE']);
    tx.receive(res(486));
    tx.receive(res(486));
    expect(sent).toEqual(['INVITE', 'INVITE', 'ACK', 'ACK']);
    expect(got).toEqual([486]);
    clock.advance(32_000);
    expect(tx.state).toBe('terminated');
  });

  it('passes 2xx and their retransmissions to the TU in Accepted', () => {
    const { deps, got, clock } = clientDeps();
    const tx = new InviteClientTransaction(req('INVITE'), deps);
    tx.start();
    tx.receive(res(180));
    tx.receive(res(200));
    tx.receive(res(200));
    expect(got).toEqual([180, 200, 200]);
    clock.advance(64 * 500);
    expect(tx.state).toBe('terminated');
  });

  it('Timer B times out an unanswered INVITE', () => {
    const { deps, events, clock } = clientDeps();
    new InviteClientTransaction(req('INVITE'), deps).start();
    clock.advance(64 * 500);
    expect(events).toEqual(['timeout', 'terminated']);
  });
});
