import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';

describe('logger', () => {
  it('redacts credentials wherever they appear and stays JSON', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger('info', 'gw', sink).child({ callId: 'c-1' });
    log.info({ password: 'hunter2', agent: { password: 'p2', token: 't' }, headers: { authorization: 'Digest x', 'lv-session': 'sess' } }, 'login');
    const line = JSON.parse(lines[0]!);
    expect(line.callId).toBe('c-1');
    expect(JSON.stringify(line)).not.toMatch(/hunter2|p2|Digest x|"sess"|"t"/);
    expect(line.password).toBe('[redacted]');
    log.info({ agent: { id: 'va-web', sipPassword: 'browser-pw', vendorPassword: 'lv-pw' }, gateway: { attachToken: 'attach-tok' } }, 'config');
    expect(lines[1]).not.toMatch(/browser-pw|lv-pw|attach-tok/);
  });
});
