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
