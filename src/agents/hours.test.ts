import { describe, expect, it } from 'vitest';
import { isOpen } from './hours.js';

const hours = { timeZone: 'America/New_York', weekly: { mon: '08:00-20:00', tue: '08:00-20:00', wed: '08:00-20:00', thu: '08:00-20:00', fri: '08:00-17:30', sat: 'closed', sun: 'closed' } };

describe('open hours', () => {
  it('are evaluated in the service time zone, start inclusive, end exclusive', () => {
    // Monday 2026-11-23 07:59 EST = 12:59 UTC
    expect(isOpen(hours, new Date('2026-11-23T12:59:00Z'))).toBe(false);
    expect(isOpen(hours, new Date('2026-11-23T13:00:00Z'))).toBe(true);
    expect(isOpen(hours, new Date('2026-11-24T00:59:00Z'))).toBe(true); // Mon 19:59 local
    expect(isOpen(hours, new Date('2026-11-24T01:00:00Z'))).toBe(false); // Mon 20:00 local
    expect(isOpen(hours, new Date('2026-11-27T22:29:00Z'))).toBe(true); // Fri 17:29
    expect(isOpen(hours, new Date('2026-11-27T22:30:00Z'))).toBe(false); // Fri 17:30
    expect(isOpen(hours, new Date('2026-11-28T15:00:00Z'))).toBe(false); // Saturday
  });

  it('follow daylight saving time (EDT in July)', () => {
    // Monday 2026-07-06 08:00 EDT = 12:00 UTC
    expect(isOpen(hours, new Date('2026-07-06T11:59:00Z'))).toBe(false);
    expect(isOpen(hours, new Date('2026-07-06T12:00:00Z'))).toBe(true);
  });

  it('absent hours mean always open', () => {
    expect(isOpen(undefined, new Date())).toBe(true);
  });
});
