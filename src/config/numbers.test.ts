import { describe, expect, it } from 'vitest';
import { normalizeNumber } from './numbers.js';

describe('normalizeNumber', () => {
  it('nanp: all spellings of one US number give one key', () => {
    for (const raw of ['+18990000001', '18990000001', '8990000001', '+1 (899) 000-0001', '899.000.0001', '+18990000001;npdi', '8990000001;phone-context=+1']) {
      expect(normalizeNumber(raw, 'nanp'), raw).toBe('18990000001');
    }
  });

  it('nanp: other lengths keep their digits', () => {
    expect(normalizeNumber('+442071234567', 'nanp')).toBe('442071234567');
    expect(normalizeNumber('5000', 'nanp')).toBe('5000');
    expect(normalizeNumber('28990000001', 'nanp')).toBe('28990000001');
  });

  it('nanp and digits: non-digits or nothing left give null', () => {
    for (const rule of ['nanp', 'digits'] as const) {
      expect(normalizeNumber('alice', rule)).toBeNull();
      expect(normalizeNumber('+1-800-FLOWERS', rule)).toBeNull();
      expect(normalizeNumber('', rule)).toBeNull();
      expect(normalizeNumber('+', rule)).toBeNull();
      expect(normalizeNumber(';npdi', rule)).toBeNull();
      expect(normalizeNumber('1++2', rule)).toBeNull();
    }
  });

  it('digits: separators and leading + removed, no country code added', () => {
    expect(normalizeNumber('+1 (899) 000-0001', 'digits')).toBe('18990000001');
    expect(normalizeNumber('899-000-0001', 'digits')).toBe('8990000001');
    expect(normalizeNumber('0044 20;x=y', 'digits')).toBe('004420');
  });

  it('exact: unchanged apart from parameters', () => {
    expect(normalizeNumber('+1 (899) 000-0001', 'exact')).toBe('+1 (899) 000-0001');
    expect(normalizeNumber('alice;transport=tcp', 'exact')).toBe('alice');
    expect(normalizeNumber(';x', 'exact')).toBeNull();
  });
});
