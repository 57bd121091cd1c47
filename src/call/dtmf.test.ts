import { describe, expect, it } from 'vitest';
import { answerDtmfInfo, parseDtmfInfo } from './dtmf.js';

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

describe('answerDtmfInfo', () => {
  it('hands a digit on with 200; keep-alive 200; other content 415; bad digit 400', () => {
    const got: string[] = [];
    const on = (d: { digit: string }) => void got.push(d.digit);
    expect(answerDtmfInfo('application/dtmf-relay', Buffer.from('Signal=7\r\nDuration=100'), on)).toEqual({ status: 200 });
    expect(answerDtmfInfo('', Buffer.alloc(0), on)).toEqual({ status: 200 });
    expect(answerDtmfInfo('text/plain', Buffer.from('7'), on)).toEqual({ status: 415, reason: 'Only application/dtmf-relay and application/dtmf INFO are supported' });
    expect(answerDtmfInfo('application/dtmf', Buffer.from('x'), on)).toEqual({ status: 400, reason: 'Invalid DTMF signal in INFO body' });
    expect(got).toEqual(['7']);
  });
});
