import { afterEach, describe, expect, it } from 'vitest';
import { decodeMuLaw, encodeMuLaw } from '../codec/g711.js';
import { hasTone } from '../dsp/goertzel.js';
import { ToneGenerator } from '../dsp/tone.js';
import { startTestEngine, waitFor, type TestEngine } from '../../test/helpers/test-engine.js';
import { EngineConnection } from './connection.js';
import type { EngineControl, EngineOptions, EngineProtocol, StreamMeta } from './types.js';

const meta: StreamMeta = {
  callSid: 'CA' + 'a1'.repeat(16), streamSid: 'MZ' + 'b2'.repeat(16), accountSid: 'vagw-1', sipCallId: 'c9f1@10.0.0.1',
  agentId: 'agent-7', number: '8990001234', caller: '+15551230000', dnis: '8005550100', profile: 'default',
  vendor: { transactionId: '1088123', sessionId: 'U5EF01@10.1.1.1' }, custom: { lang: 'en-US' },
};
const params = { agentId: 'agent-7', number: '8990001234', caller: '+15551230000', dnis: '8005550100', sipCallId: 'c9f1@10.0.0.1', profile: 'default', from_number: '+15551230000', to_number: '8005550100', transactionId: '1088123', sessionId: 'U5EF01@10.1.1.1', lang: 'en-US' };

let engine: TestEngine | undefined;
const conns: EngineConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.stop();
  await engine?.close();
  engine = undefined;
});

async function setup(protocol: EngineProtocol, extra: Partial<EngineOptions> = {}, secret?: string) {
  engine = await startTestEngine({ protocol, ...(secret ? { secret } : {}) });
  const conn = await EngineConnection.open({ url: engine.url, protocol, meta, ...(secret ? { secret } : {}), ...extra });
  conns.push(conn);
  const call = await engine.waitForCall();
  await call.waitFor((c) => c.start !== undefined);
  return { conn, call };
}

/** Pieces of received audio concatenated, as PCM. */
const pcmOf = (chunks: Buffer[], protocol: EngineProtocol): Int16Array => {
  const all = Buffer.concat(chunks);
  if (protocol === 'twilio') return decodeMuLaw(all);
  return Int16Array.from({ length: all.length / 2 }, (_, i) => all.readInt16LE(i * 2));
};

describe('EngineConnection (twilio)', () => {
  it('sends connected then start with exact metadata and a verifiable Bearer token', async () => {
    const { call } = await setup('twilio', {}, 'sekret');
    expect(call.messages[0]).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(call.messages[1]).toEqual({
      event: 'start', sequenceNumber: '1', streamSid: meta.streamSid,
      start: {
        accountSid: 'vagw-1', streamSid: meta.streamSid, callSid: meta.callSid, tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: params,
      },
    });
    expect(call.token).toMatchObject({ iss: 'vagw-1', sub: meta.callSid, stream: meta.streamSid, agent: 'agent-7' });
  });

  it('says reconnect in the start of a second attempt', async () => {
    const { call } = await setup('twilio', { reconnect: true });
    expect((call.start?.start as { customParameters: object }).customParameters).toEqual({ ...params, reconnect: 'true' });
  });

  it('carries audio both ways as base64 mu-law with running sequence numbers', async () => {
    const { conn, call } = await setup('twilio');
    const gen = new ToneGenerator([1000], 8000);
    for (let i = 0; i < 15; i++) conn.sendAudio(Buffer.from(encodeMuLaw(gen.next(160))), i * 20);
    await call.waitFor((c) => c.receivedMs >= 300);
    expect(call.receivedTone(1000, 280)).toBe(true);
    expect(call.receivedTone(1500, 20)).toBe(false);
    const media = call.messages.filter((m) => m.event === 'media');
    expect(media[2]).toMatchObject({ sequenceNumber: '4', streamSid: meta.streamSid, media: { track: 'inbound', chunk: '3', timestamp: '40' } });

    const got: Buffer[] = [];
    conn.onAudio = (p) => got.push(p);
    await call.sendTone(1500, 200);
    await waitFor(() => got.length === 10);
    expect(got.every((p) => p.length === 160)).toBe(true);
    expect(hasTone(pcmOf(got, 'twilio'), 1500, 8000, 0.9)).toBe(true);
  });

  it('sends dtmf, marks, extension events; delivers marks, clear and every control event', async () => {
    const { conn, call } = await setup('twilio');
    conn.sendDtmf('5');
    conn.sendMark('greeting-done');
    conn.sendEvent('screenPop', { agent: 'a1' });
    await call.waitFor((c) => c.messages.length === 5);
    expect(call.messages.slice(2)).toEqual([
      { event: 'dtmf', sequenceNumber: '2', streamSid: meta.streamSid, dtmf: { track: 'inbound_track', digit: '5' } },
      { event: 'mark', sequenceNumber: '3', streamSid: meta.streamSid, mark: { name: 'greeting-done' } },
      { event: 'screenPop', sequenceNumber: '4', streamSid: meta.streamSid, screenPop: { agent: 'a1' } },
    ]);
    expect(() => conn.sendEvent('media', {})).toThrow(/protocol message/);

    const seen: unknown[] = [];
    conn.onMark = (name) => seen.push(['mark', name]);
    conn.onClear = () => seen.push(['clear']);
    conn.onControl = (ev) => seen.push(ev);
    const controls: EngineControl[] = [
      { type: 'hangup', termCode: '1200', reason: 'done' }, { type: 'hangup' },
      { type: 'transfer', phonebook: 'sales' }, { type: 'transfer', target: 'sip:100@pbx' },
      { type: 'dtmf', digits: '12#' }, { type: 'hold' }, { type: 'unhold' },
      { type: 'updateContact', fields: { outcome: 'sale' } },
    ];
    call.sendMark('m1');
    call.sendClear();
    for (const c of controls) call.sendControl(c);
    call.sendJson({ event: 'dtmf', dtmf: { digit: '7' } });
    await waitFor(() => seen.length === controls.length + 3);
    expect(seen).toEqual([['mark', 'm1'], ['clear'], ...controls, { type: 'dtmf', digits: '7' }]);
    expect(call.errors).toEqual([]);
  });

  it('answers malformed messages with a precise error and stays up', async () => {
    const { conn, call } = await setup('twilio');
    const sid = meta.streamSid;
    const bad: [string | Buffer, string, string][] = [
      ['hello', 'invalid-json', 'message is not valid JSON'],
      ['[1,2]', 'invalid-json', 'message is not a JSON object'],
      ['{"foo":1}', 'invalid-message', 'event is missing or not a string'],
      ['{"event":"bogus"}', 'unknown-event', 'unknown event "bogus"'],
      ['{"event":"media","media":{"payload":"AAAA"}}', 'invalid-message', 'media: streamSid is missing'],
      ['{"event":"mark","streamSid":"MZother","mark":{"name":"x"}}', 'wrong-stream', `mark: streamSid "MZother" is not this stream (${sid})`],
      [`{"event":"media","streamSid":"${sid}","media":{"payload":"@@@"}}`, 'invalid-message', 'media.payload is not valid base64'],
      [`{"event":"media","streamSid":"${sid}","media":{}}`, 'invalid-message', 'media.payload is missing or not a string'],
      [`{"event":"mark","streamSid":"${sid}","mark":{}}`, 'invalid-message', 'mark.name is missing or not a non-empty string'],
      ['{"event":"dtmf","dtmf":{"digits":"12x"}}', 'invalid-message', 'dtmf.digits "12x" must be 1-64 of 0-9 * # A-D'],
      ['{"event":"transfer","transfer":{}}', 'invalid-message', 'transfer needs at least one of phonebook, contact, target'],
      ['{"event":"hangup","hangup":{"termCode":5}}', 'invalid-message', 'hangup.termCode must be a non-empty string'],
      ['{"event":"updateContact","updateContact":{"fields":{"a":1}}}', 'invalid-message', 'updateContact.fields.a must be a string'],
      [Buffer.from([1, 2, 3, 4]), 'invalid-message', 'binary frames are not used by the twilio protocol: send media events'],
    ];
    let controls = 0;
    conn.onControl = () => controls++;
    for (const [raw] of bad) call.sendRaw(raw);
    await call.waitFor((c) => c.errors.length === bad.length);
    expect(call.errors).toEqual(bad.map(([, code, message]) => ({ code, message })));
    expect(conn.stats.errorsSent).toBe(bad.length);
    expect(controls).toBe(0);
    const marks: string[] = [];
    conn.onMark = (n) => marks.push(n);
    call.sendMark('still-here');
    await waitFor(() => marks.length === 1);
    expect(conn.isOpen).toBe(true);
  });

  it('stop() sends one stop, closes 1000 and is idempotent; engine close is reported', async () => {
    const { conn, call } = await setup('twilio');
    conn.stop('caller hung up');
    conn.stop('again');
    expect(conn.sendAudio(Buffer.alloc(160), 0)).toBe(false);
    expect(await conn.closed).toEqual({ code: 1000, reason: 'caller hung up', byUs: true });
    await call.waitFor((c) => c.closed !== null);
    expect(call.messages.filter((m) => m.event === 'stop')).toEqual([
      { event: 'stop', sequenceNumber: '2', streamSid: meta.streamSid, stop: { accountSid: 'vagw-1', callSid: meta.callSid, reason: 'caller hung up' } },
    ]);
    expect(call.closed?.code).toBe(1000);

    const conn2 = await EngineConnection.open({ url: engine!.url, protocol: 'twilio', meta });
    conns.push(conn2);
    const infos: unknown[] = [];
    conn2.onClose = (i) => infos.push(i);
    (await engine!.waitForCall(1)).close(4000, 'engine done');
    expect(await conn2.closed).toEqual({ code: 4000, reason: 'engine done', byUs: false });
    expect(infos).toEqual([{ code: 4000, reason: 'engine done', byUs: false }]);
  });
});

describe('EngineConnection (l16)', () => {
  it('sends one start with the l16 format and the same metadata', async () => {
    const { call } = await setup('l16', { reconnect: true });
    expect(call.messages).toEqual([{
      event: 'start', sequenceNumber: '1', streamSid: meta.streamSid,
      protocol: 'l16', sampleRate: 16000, channels: 1, encoding: 'pcm_s16le', reconnect: true,
      start: {
        accountSid: 'vagw-1', streamSid: meta.streamSid, callSid: meta.callSid, tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/L16', sampleRate: 16000, channels: 1 }, customParameters: { ...params, reconnect: 'true' },
      },
    }]);
    expect(call.headers.authorization).toBeUndefined();
  });

  it('carries audio both ways as binary 16 kHz PCM and refuses odd or JSON audio', async () => {
    const { conn, call } = await setup('l16');
    const gen = new ToneGenerator([2000], 16000);
    for (let i = 0; i < 10; i++) {
      const pcm = gen.next(320);
      const buf = Buffer.alloc(640);
      pcm.forEach((v, j) => buf.writeInt16LE(v, j * 2));
      expect(conn.sendAudio(buf, i * 20)).toBe(true);
    }
    await call.waitFor((c) => c.binaryFrames === 10);
    expect(call.receivedTone(2000, 200)).toBe(true);
    expect(call.messages.filter((m) => m.event === 'media')).toEqual([]);

    const got: Buffer[] = [];
    conn.onAudio = (p) => got.push(p);
    await call.sendTone(700, 100, { paced: true });
    await waitFor(() => got.length === 5);
    expect(got.every((p) => p.length === 640)).toBe(true);
    expect(hasTone(pcmOf(got, 'l16'), 700, 16000, 0.9)).toBe(true);

    call.sendRaw(Buffer.alloc(641));
    call.sendRaw(Buffer.alloc(0));
    call.sendRaw(JSON.stringify({ event: 'media', media: { payload: 'AAAA' } }));
    await call.waitFor((c) => c.errors.length === 3);
    expect(call.errors.map((e) => e.message)).toEqual([
      'binary audio frame has odd length 641 (16-bit PCM needs an even number of bytes)',
      'binary audio frame is empty',
      'media events are not used by the l16 protocol: send audio as binary frames',
    ]);
    expect(got.length).toBe(5);
    expect(conn.stats).toMatchObject({ framesOut: 14, errorsSent: 3 });
    expect(conn.stats.framesIn).toBe(8);
  });
});
