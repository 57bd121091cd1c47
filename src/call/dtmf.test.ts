import { describe, expect, it } from 'vitest';
import { parseDtmfInfo } from './dtmf.js';

describe('parseDtmfInfo', () => {
  it('reads dtmf-relay bodies', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({ digit: '5', durationMs: 160 });
    expect(parseDtmfInfo('Application/DTMF-Relay; charset=x', 'signal= #\nduration=250')).toEqual({ digit: '#', durationMs: 250 });
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=11')).toEqual({ digit: '#', durationMs: 160 });
  });
  it('reads application/dtmf', () => {
    expect(parseDtmfInfo('application/dtmf', '7')).toEqual({ digit: '7', durationMs: 160 });
  });
  it('rejects bad digits and ignores other types', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=Z')).toBe('invalid');
    expect(parseDtmfInfo('application/dtmf-relay', '')).toBe('invalid');
    expect(parseDtmfInfo('text/plain', 'Signal=5')).toBeNull();
  });
});
