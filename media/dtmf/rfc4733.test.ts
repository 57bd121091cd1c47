import { describe, expect, it } from 'vitest';
import {
  buildTelephoneEvent,
  digitToEvent,
  eventToDigit,
  parseTelephoneEvent,
  TelephoneEventReceiver,
  TelephoneEventSender,
  type TelephoneEventPacket,
} from './rfc4733.js';

/** Feed a train with one RTP timestamp; collect the reports. */
function feed(rx: TelephoneEventReceiver, train: TelephoneEventPacket[], ts: number) {
  return train.map((p) => rx.push(p.payload, ts, p.marker)).filter((r) => r !== null);
}

describe('event codes', () => {
  it('maps digits both ways', () => {
    expect([...'0123456789*#ABCD'].map(digitToEvent)).toEqual([...Array(16).keys()]);
    expect([...Array(16).keys()].map(eventToDigit).join('')).toBe('0123456789*#ABCD');
    expect(digitToEvent('a')).toBe(12);
    expect(digitToEvent('E')).toBeNull();
    expect(digitToEvent('12')).toBeNull();
    expect(eventToDigit(16)).toBeNull();
    expect(eventToDigit(-1)).toBeNull();
  });

  it('encodes the payload fields', () => {
    const b = buildTelephoneEvent({ event: 11, end: true, volume: 10, duration: 1600 });
    expect([...b]).toEqual([11, 0x80 | 10, 0x06, 0x40]);
    expect(parseTelephoneEvent(b)).toEqual({ event: 11, end: true, volume: 10, duration: 1600 });
  });
});

describe('TelephoneEventSender', () => {
  it('builds marker, 20 ms updates, then three identical End packets', () => {
    const train = new TelephoneEventSender(101).packets('5', 100);
    expect(train.map((p) => p.sendOffsetMs)).toEqual([0, 20, 40, 60, 80, 100, 120]);
    expect(train.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    const fields = train.map((p) => parseTelephoneEvent(p.payload)!);
    expect(fields.map((f) => f.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(fields.map((f) => f.end)).toEqual([false, false, false, false, true, true, true]);
    expect(fields.every((f) => f.event === 5 && f.volume === 10)).toBe(true);
    expect(train.every((p) => p.timestampOffsetSamples === 0)).toBe(true);
  });

  it('makes a short digit a train of End packets only, the first with the marker', () => {
    const train = new TelephoneEventSender(101).packets('#', 15);
    expect(train).toHaveLength(3);
    expect(train[0]!.marker).toBe(true);
    expect(train.map((p) => parseTelephoneEvent(p.payload)!.duration)).toEqual([120, 120, 120]);
  });

  it('honours the clock rate and rejects non-digits', () => {
    const train = new TelephoneEventSender(101, 16000).packets('1', 40);
    expect(train.map((p) => parseTelephoneEvent(p.payload)!.duration)).toEqual([320, 640, 640, 640]);
    expect(() => new TelephoneEventSender(101).packets('x', 100)).toThrow(RangeError);
  });
});

describe('TelephoneEventReceiver', () => {
  const tx = new TelephoneEventSender(101);

  it('reports a full train once, with its duration', () => {
    const rx = new TelephoneEventReceiver();
    expect(feed(rx, tx.packets('7', 120), 1000)).toEqual([{ digit: '7', durationMs: 120 }]);
    expect(rx.flush()).toEqual([]);
  });

  it('still reports the digit when the start packets are lost', () => {
    const rx = new TelephoneEventReceiver();
    const train = tx.packets('9', 100);
    expect(feed(rx, train.slice(3), 5000)).toEqual([{ digit: '9', durationMs: 100 }]);
  });

  it('collapses duplicated End packets and late retransmitted updates', () => {
    const rx = new TelephoneEventReceiver();
    const train = tx.packets('3', 60);
    const noisy = [...train, train[4]!, train[1]!, train[4]!];
    expect(feed(rx, noisy, 42)).toHaveLength(1);
  });

  it('reports two presses of the same digit as two digits', () => {
    const rx = new TelephoneEventReceiver();
    const got = [...feed(rx, tx.packets('1', 80), 8000), ...feed(rx, tx.packets('1', 80), 9600)];
    expect(got).toEqual([
      { digit: '1', durationMs: 80 },
      { digit: '1', durationMs: 80 },
    ]);
  });

  it('reports an event whose End packets were all lost when the next one starts', () => {
    const rx = new TelephoneEventReceiver();
    const a = tx.packets('4', 100).filter((p) => !parseTelephoneEvent(p.payload)!.end);
    expect(feed(rx, a, 100)).toEqual([]);
    const b = tx.packets('6', 60);
    // The first packet of '6' flushes '4' with the longest duration seen (80 ms).
    expect(rx.push(b[0]!.payload, 2000, true)).toEqual({ digit: '4', durationMs: 80 });
    expect(feed(rx, b.slice(1), 2000)).toEqual([{ digit: '6', durationMs: 60 }]);
  });

  it('reports both events when one packet ends a new event while the previous never ended', () => {
    const rx = new TelephoneEventReceiver();
    expect(feed(rx, tx.packets('2', 60).slice(0, 1), 0)).toEqual([]);
    const b = tx.packets('8', 10); // three End packets
    expect(rx.push(b[0]!.payload, 500, true)).toEqual({ digit: '2', durationMs: 20 });
    // The End of '8' comes out with the next packet (its retransmission) ...
    expect(rx.push(b[1]!.payload, 500, false)).toEqual({ digit: '8', durationMs: 10 });
    expect(rx.push(b[2]!.payload, 500, false)).toBeNull();
  });

  it('hands out an unfinished event on flush()', () => {
    const rx = new TelephoneEventReceiver();
    feed(rx, tx.packets('*', 100).slice(0, 2), 7);
    expect(rx.flush()).toEqual([{ digit: '*', durationMs: 40 }]);
    expect(rx.flush()).toEqual([]);
  });

  it('counts malformed payloads and returns null for them', () => {
    const rx = new TelephoneEventReceiver();
    expect(rx.push(Uint8Array.of(1, 0x80, 0), 1, true)).toBeNull();
    expect(rx.push(Uint8Array.of(16, 0x80, 0, 160), 1, true)).toBeNull();
    expect(rx.malformed).toBe(2);
  });

  it('uses the configured clock rate for durations', () => {
    const rx = new TelephoneEventReceiver(16000);
    const train = new TelephoneEventSender(101, 16000).packets('0', 100);
    expect(feed(rx, train, 1)).toEqual([{ digit: '0', durationMs: 100 }]);
  });
});
