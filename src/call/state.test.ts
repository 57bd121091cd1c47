import { describe, expect, it } from 'vitest';
import { IllegalTransition, transition, type CallInput, type CallState } from './state.js';

describe('call state machine', () => {
  const cases: [CallState, CallInput, CallState | 'illegal'][] = [
    ['ringing', 'answered', 'active'],
    ['ringing', 'end', 'ended'],
    ['ringing', 'hold', 'illegal'],
    ['active', 'hold', 'held'],
    ['active', 'answered', 'illegal'],
    ['held', 'resume', 'active'],
    ['held', 'hold', 'held'],
    ['held', 'end', 'ended'],
    ['ended', 'end', 'illegal'],
    ['ended', 'resume', 'illegal'],
  ];
  it.each(cases)('%s --%s--> %s', (from, input, to) => {
    if (to === 'illegal') expect(() => transition(from, input)).toThrow(IllegalTransition);
    else expect(transition(from, input)).toBe(to);
  });
});

describe('who ended a call', () => {
  it('names the caller, the engine, the API, the platform, or the gateway (timers, refusals, failures)', async () => {
    const { endedByFor } = await import('./state.js');
    expect(['caller-bye', 'caller-cancel'].map((r) => endedByFor(r as never))).toEqual(['caller', 'caller']);
    expect(['engine-hangup', 'engine-failed', 'transferred'].map((r) => endedByFor(r as never))).toEqual(['engine', 'engine', 'engine']);
    expect(endedByFor('api-release')).toBe('api');
    expect(endedByFor('platform-ended')).toBe('platform');
    for (const r of ['max-duration', 'session-expired', 'ack-timeout', 'request-timeout', 'rtp-timeout', 'media-failure', 'drain', 'refused', 'internal-error', 'transport-error', 'answer-failed']) {
      expect(endedByFor(r as never)).toBe('gateway');
    }
  });
});
