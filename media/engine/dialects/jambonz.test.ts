import { describe, expect, it } from 'vitest';
import type { StreamMeta } from '../types.js';
import { JambonzDialect, parseWav } from './jambonz.js';

const meta: StreamMeta = { callSid: 'CA1', streamSid: 'MZ1', accountSid: 'vagw-1', sipCallId: 'abc@host', agentId: 'ag1', number: '+18990000001', caller: '+13125550123', dnis: '8005550100', profile: 'p', vendor: { transactionId: '77' }, custom: {} };
const text = (s: string) => Buffer.from(s);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

function wav(rate: number, samples: number[], bits = 16, channels = 1): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(v, 2 * i));
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate * 2, 8);
  fmt.writeUInt16LE(2, 12);
  fmt.writeUInt16LE(bits, 14);
  const chunk = (id: string, b: Buffer) => Buffer.concat([Buffer.from(id, 'latin1'), Buffer.from(Uint32Array.of(b.length).buffer), b]);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), chunk('fmt ', fmt), chunk('data', data)]);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.from(Uint32Array.of(body.length).buffer), body]);
}

describe('jambonz listen dialect', () => {
  it('opens with one JSON text frame: the call attributes, sampleRate, mixType mono and the metadata merged in', () => {
    const d = new JambonzDialect({ sampleRate: 16000 });
    expect(d.subprotocol).toBe('audio.jambonz.org');
    expect(d.format).toBe('l16-16k');
    expect(d.replyFormat).toBe('l16-16k');
    const [first, ...rest] = d.opening(meta, false);
    expect(rest).toEqual([]);
    expect(typeof first).toBe('string');
    expect(JSON.parse(first as string)).toMatchObject({
      sampleRate: 16000, mixType: 'mono', callSid: 'CA1', callId: 'abc@host', direction: 'inbound', from: '+13125550123', to: '8005550100',
      agentId: 'ag1', from_number: '+13125550123', transactionId: '77',
    });
    expect(JSON.parse(d.opening(meta, true)[0] as string).reconnect).toBe('true');
  });

  it('caller audio goes as binary frames; DTMF as the passDtmf JSON with the duration in 8 kHz timestamp units', () => {
    const d = new JambonzDialect({ sampleRate: 8000, replySampleRate: 16000 });
    expect(d.format).toBe('l16-8k');
    expect(d.replyFormat).toBe('l16-16k');
    const frame = new Uint8Array(320).fill(7);
    const out = d.audio(frame);
    expect(Buffer.isBuffer(out) && out.length).toBe(320);
    expect(JSON.parse(d.dtmf('5', 200) as string)).toEqual({ event: 'dtmf', dtmf: '5', duration: '1600' });
  });

  it('binary from the bot is audio (even, non-empty); disconnect hangs up; killAudio clears', () => {
    const d = new JambonzDialect({ sampleRate: 8000 });
    expect(d.receive(Buffer.alloc(640), true)).toEqual([{ kind: 'audio', payload: Buffer.alloc(640) }]);
    expect(d.receive(Buffer.alloc(3), true)[0]).toMatchObject({ kind: 'rejected' });
    expect(d.receive(Buffer.alloc(0), true)[0]).toMatchObject({ kind: 'rejected' });
    expect(d.receive(json({ type: 'disconnect' }), false)).toEqual([{ kind: 'control', control: { type: 'hangup' } }]);
    expect(d.receive(json({ type: 'killAudio' }), false)).toEqual([{ kind: 'clear' }]);
  });

  it('mark is answered playout when reached and cleared when killAudio dropped it; clearMarks silences pending marks', () => {
    const d = new JambonzDialect({ sampleRate: 8000 });
    const [a] = d.receive(json({ type: 'mark', data: { name: 'turn-1' } }), false);
    const [b] = d.receive(json({ type: 'mark', data: { name: 'turn-2' } }), false);
    expect(a).toMatchObject({ kind: 'mark' });
    const qa = (a as { name: string }).name;
    const qb = (b as { name: string }).name;
    expect(qa).not.toBe('turn-1');
    expect(JSON.parse(d.markPlayed(qa, false) as string)).toEqual({ type: 'mark', data: { name: 'turn-1', event: 'playout' } });
    expect(JSON.parse(d.markPlayed(qb, true) as string)).toEqual({ type: 'mark', data: { name: 'turn-2', event: 'cleared' } });
    expect(d.markPlayed(qa, false)).toBeNull();
    const [c] = d.receive(json({ type: 'mark', data: { name: 'turn-3' } }), false);
    expect(d.receive(json({ type: 'clearMarks' }), false)).toEqual([]);
    expect(d.markPlayed((c as { name: string }).name, false)).toBeNull();
    expect(d.receive(json({ type: 'mark', data: {} }), false)[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/data.name/) });
  });

  it('playAudio: raw at its sampleRate or a WAV, then playDone once played (with the id when given); at most 10 queued', () => {
    const d = new JambonzDialect({ sampleRate: 8000 });
    const raw = Buffer.alloc(3200, 1);
    const acts = d.receive(json({ type: 'playAudio', data: { audioContent: raw.toString('base64'), audioContentType: 'raw', sampleRate: '16000', id: 'p1' } }), false);
    expect(acts[0]).toEqual({ kind: 'audio', payload: raw, format: 'l16-16k' });
    expect(acts[1]).toMatchObject({ kind: 'mark' });
    expect(JSON.parse(d.markPlayed((acts[1] as { name: string }).name, false) as string)).toEqual({ type: 'playDone', data: { id: 'p1' } });
    const w = d.receive(json({ type: 'playAudio', data: { audioContent: wav(8000, [1, 2, 3, 4]).toString('base64'), audioContentType: 'wav' } }), false);
    expect(w[0]).toMatchObject({ kind: 'audio', format: 'l16-8k' });
    expect((w[0] as { payload: Buffer }).payload.length).toBe(8);
    expect(JSON.parse(d.markPlayed((w[1] as { name: string }).name, false) as string)).toEqual({ type: 'playDone' });
    const play = json({ type: 'playAudio', data: { audioContent: raw.toString('base64'), audioContentType: 'raw', sampleRate: 8000 } });
    for (let i = 0; i < 10; i++) expect(d.receive(play, false)[0]!.kind).toBe('audio');
    expect(d.receive(play, false)[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/more than 10 playAudio/) });
  });

  it('rejects what jambonz does not define, naming the problem', () => {
    const d = new JambonzDialect({ sampleRate: 8000 });
    expect(d.receive(text('hello'), false)[0]).toMatchObject({ kind: 'rejected', reason: 'text frame is not JSON' });
    expect(d.receive(json({ type: 'transfer' }), false)[0]).toMatchObject({ kind: 'rejected', reason: 'unknown message type "transfer"' });
    expect(d.receive(json({ type: 'playAudio', data: { audioContent: 'AAAA', audioContentType: 'raw', sampleRate: 48000 } }), false)[0])
      .toMatchObject({ reason: expect.stringMatching(/48000 is not supported/) });
    expect(d.receive(json({ type: 'playAudio', data: { audioContent: 'AAAA', audioContentType: 'mp3' } }), false)[0])
      .toMatchObject({ reason: expect.stringMatching(/audioContentType/) });
    expect(parseWav(wav(8000, [1, 2], 16, 2))).toMatch(/mono/);
    expect(parseWav(Buffer.from('nope'))).toBe('not a RIFF/WAVE file');
  });
});
