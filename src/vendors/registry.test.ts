import { describe, expect, it } from 'vitest';
import { idsFromAnyInvite, pluginFor, pluginNames } from './registry.js';
import { VENDOR_NAMES } from './settings.js';

describe('the platform registry', () => {
  it('has a plug-in for every platform the config accepts, and no other', () => {
    expect([...pluginNames()].sort()).toEqual([...VENDOR_NAMES].sort());
    for (const n of VENDOR_NAMES) expect(pluginFor(n)?.name).toBe(n);
    expect(pluginFor('none')).toBeUndefined();
  });

  it("reads every platform's call ids from an INVITE (profiles with no contact center)", () => {
    const h: Record<string, string> = { 'X-transaction-id': '108821676850', 'Session-ID': 'S1@10.0.0.1', From: '<sip:+13125550100@10.0.0.1>;tag=a' };
    expect(idsFromAnyInvite((n) => h[n])).toEqual({ transactionId: '108821676850', sessionId: 'S1@10.0.0.1', phoneDialed: '3125550100' });
    expect(idsFromAnyInvite(() => undefined)).toEqual({});
  });
});
