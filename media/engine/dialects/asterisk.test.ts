import { describe, expect, it } from 'vitest';
import type { StreamMeta } from '../types.js';
import { AsteriskDialect } from './asterisk.js';

const meta: StreamMeta = { callSid: 'CA9', streamSid: 'MZ9', accountSid: 'vagw-1', sipCallId: 'x@h', agentId: 'ag9', number: '+18990000009', caller: '+13125550123', dnis: '', profile: 'p', vendor: {}, custom: {} };
const cmd = (v: Record<string, unknown>) => Buffer.from(JSON.stringify(v));
const line = (s: string) => Buffer.from(s);
const names = (acts: { kind: string }[]) => acts.map((a) => a.kind);

function opened(format: 'ulaw' | 'slin' | 'slin16' = 'ulaw', controlFormat: 'json' | 'plain-text' = 'json') {
  const d = new AsteriskDialect({ format, controlFormat });
  const start = d.opening(meta, false);
  return { d, start };
}

describe('Asterisk chan_websocket dialect', () => {
  it('MEDIA_START in JSON carries the channel, format, optimal_frame_size, ptime and the customParameters as channel variables', () => {
    const { d, start } = opened('slin16');
    expect((d as { subprotocol?: string }).subprotocol).toBeUndefined();
    expect(d.format).toBe('l16-16k');
    expect(JSON.parse(start[0] as string)).toMatchObject({
      event: 'MEDIA_START', connection_id: 'MZ9', channel: 'WebSocket/ag9/CA9', channel_id: 'CA9', format: 'slin16', optimal_frame_size: 640, ptime: 20,
      channel_variables: { agentId: 'ag9', from_number: '+13125550123', to_number: '+18990000009', MEDIA_WEBSOCKET_CONNECTION_ID: 'MZ9', MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE: '640' },
    });
  });

  it('plain-text format: MEDIA_START and events as one line of key:value words', () => {
    const { d, start } = opened('ulaw', 'plain-text');
    expect(start).toEqual(['MEDIA_START connection_id:MZ9 channel:WebSocket/ag9/CA9 channel_id:CA9 format:ulaw optimal_frame_size:160 ptime:20']);
    expect(d.dtmf('7')).toBe('DTMF_END digit:7');
    const [m] = d.receive(line('MARK_MEDIA m-1'), false);
    expect(d.markPlayed((m as { name: string }).name, false)).toBe('MEDIA_MARK_PROCESSED m-1');
    expect(d.receive(cmd({ command: 'HANGUP' }), false)[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/plain-text/) });
    expect(d.receive(line('HANGUP'), false)).toEqual([{ kind: 'control', control: { type: 'hangup' } }]);
  });

  it('media from the app is cut at optimal_frame_size; the rest is dropped outside bulk buffering', () => {
    const { d } = opened('ulaw');
    expect(d.receive(Buffer.alloc(480), true)).toEqual([{ kind: 'audio', payload: Buffer.alloc(480) }]);
    const acts = d.receive(Buffer.alloc(500), true);
    expect(names(acts)).toEqual(['audio', 'rejected']);
    expect((acts[0] as { payload: Buffer }).payload.length).toBe(480);
    expect(acts[1]).toMatchObject({ reason: expect.stringMatching(/^20 byte\(s\) dropped/) });
  });

  it('START/STOP_MEDIA_BUFFERING: frames across messages, the rest padded with silence, then MEDIA_BUFFERING_COMPLETED with the correlation id', () => {
    const { d } = opened('ulaw');
    expect(d.receive(cmd({ command: 'START_MEDIA_BUFFERING' }), false)).toEqual([]);
    expect(d.receive(Buffer.alloc(100, 1), true)).toEqual([]);
    const a = d.receive(Buffer.alloc(100, 1), true);
    expect((a[0] as { payload: Buffer }).payload.length).toBe(160);
    const stop = d.receive(cmd({ command: 'STOP_MEDIA_BUFFERING', correlation_id: 'file-1' }), false);
    expect(names(stop)).toEqual(['audio', 'mark']);
    const padded = (stop[0] as { payload: Buffer }).payload;
    expect(padded.length).toBe(160);
    expect(padded.subarray(0, 40).every((b) => b === 1) && padded.subarray(40).every((b) => b === 0xff)).toBe(true);
    expect(JSON.parse(d.markPlayed((stop[1] as { name: string }).name, false) as string)).toEqual({ event: 'MEDIA_BUFFERING_COMPLETED', channel_id: 'CA9', correlation_id: 'file-1' });
  });

  it('FLUSH_MEDIA clears and resumes; its marks pass unreported; PAUSE/CONTINUE; MARK_MEDIA answered MEDIA_MARK_PROCESSED', () => {
    const { d } = opened();
    expect(d.receive(cmd({ command: 'PAUSE_MEDIA' }), false)).toEqual([{ kind: 'pause', on: true }]);
    expect(d.receive(cmd({ command: 'CONTINUE_MEDIA' }), false)).toEqual([{ kind: 'pause', on: false }]);
    const [m] = d.receive(cmd({ command: 'MARK_MEDIA', correlation_id: 'm1' }), false);
    expect(JSON.parse(d.markPlayed((m as { name: string }).name, false) as string)).toEqual({ event: 'MEDIA_MARK_PROCESSED', channel_id: 'CA9', correlation_id: 'm1' });
    const [m2] = d.receive(cmd({ command: 'MARK_MEDIA' }), false);
    expect(d.receive(cmd({ command: 'FLUSH_MEDIA' }), false)).toEqual([{ kind: 'clear' }, { kind: 'pause', on: false }]);
    expect(d.markPlayed((m2 as { name: string }).name, true)).toBeNull();
  });

  it('flow control: MEDIA_XOFF at 90 % of the queue bound, MEDIA_XON under 80 %; GET_STATUS; QUEUE_DRAINED once asked', () => {
    const { d } = opened();
    expect(d.playout(899, 1000)).toBeNull();
    expect(JSON.parse(d.playout(900, 1000) as string)).toEqual({ event: 'MEDIA_XOFF', channel_id: 'CA9' });
    expect(d.playout(850, 1000)).toBeNull();
    const [status] = d.receive(cmd({ command: 'GET_STATUS' }), false);
    expect(JSON.parse((status as { out: string }).out)).toEqual({ event: 'STATUS', channel_id: 'CA9', queue_length: 850, xon_level: 800, xoff_level: 900, queue_full: true, bulk_media: false, media_paused: false });
    expect(JSON.parse(d.playout(799, 1000) as string)).toEqual({ event: 'MEDIA_XON', channel_id: 'CA9' });
    expect(d.receive(cmd({ command: 'REPORT_QUEUE_DRAINED' }), false)).toEqual([]);
    expect(d.playout(3, 1000)).toBeNull();
    expect(JSON.parse(d.playout(0, 1000) as string)).toEqual({ event: 'QUEUE_DRAINED', channel_id: 'CA9' });
    expect(d.playout(0, 1000)).toBeNull();
  });

  it('SET_MEDIA_DIRECTION: "in" drops app media and refuses media commands; "out" sends the app no media', () => {
    const { d } = opened();
    expect(d.receive(cmd({ command: 'SET_MEDIA_DIRECTION', direction: 'in' }), false)).toEqual([]);
    expect(d.receive(Buffer.alloc(160), true)[0]).toMatchObject({ kind: 'rejected' });
    expect(d.receive(cmd({ command: 'MARK_MEDIA' }), false)[0]).toMatchObject({ kind: 'rejected', reason: 'MARK_MEDIA while the media direction is "in"' });
    expect(d.receive(cmd({ command: 'SET_MEDIA_DIRECTION', direction: 'out' }), false)).toEqual([]);
    expect(d.audio(new Uint8Array(160))).toBeNull();
    expect(d.receive(cmd({ command: 'SET_MEDIA_DIRECTION', direction: 'sideways' }), false)[0]).toMatchObject({ kind: 'rejected' });
  });

  it('commands are case-sensitive; ANSWER is accepted (the call is answered); junk is rejected with the reason', () => {
    const { d } = opened();
    expect(d.receive(cmd({ command: 'ANSWER' }), false)).toEqual([]);
    expect(d.receive(cmd({ command: 'hangup' }), false)[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/unknown command "hangup"/) });
    expect(d.receive(line('{oops'), false)[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/not JSON/) });
    expect(d.receive(cmd({ nope: 1 }), false)[0]).toMatchObject({ kind: 'rejected', reason: 'control message has no string "command"' });
    expect(d.receive(cmd({ command: 'MARK_MEDIA', correlation_id: 5 }), false)[0]).toMatchObject({ kind: 'rejected' });
  });
});
