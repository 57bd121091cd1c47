import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../../test/helpers/test-engine.js';
import { EngineConnection } from './connection.js';
import type { StreamMeta } from './types.js';

const meta: StreamMeta = {
  callSid: 'CA' + '0f'.repeat(16), streamSid: 'MZ' + 'e1'.repeat(16), accountSid: 'vagw-1', sipCallId: 'id@h',
  agentId: 'a', number: '899', caller: '1', dnis: '2', profile: 'p', vendor: {}, custom: {},
};

let engine: TestEngine | undefined;
const servers: net.Server[] = [];
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const listen = async (server: net.Server): Promise<number> => {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

describe('EngineConnection limits and failures', () => {
  it('rejects a wrong or missing token with the 401 of the refused upgrade', async () => {
    engine = await startTestEngine({ secret: 'right' });
    await expect(EngineConnection.open({ url: engine.url, protocol: 'twilio', meta, secret: 'wrong' }))
      .rejects.toThrow(`cannot connect to engine ${engine.url}: upgrade refused with HTTP 401 Unauthorized`);
    await expect(EngineConnection.open({ url: engine.url, protocol: 'twilio', meta })).rejects.toThrow(/HTTP 401/);
    expect(engine.rejections).toEqual(['engine token: bad signature', 'no Bearer token']);
    expect(engine.calls).toEqual([]);
  });

  it('reports other refused upgrades by status', async () => {
    engine = await startTestEngine({ rejectWith: 503 });
    await expect(EngineConnection.open({ url: engine.url, protocol: 'l16', meta })).rejects.toThrow(/HTTP 503 Service Unavailable/);
  });

  it('rejects quickly with "connection refused" for a closed port', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    servers.pop();
    const t0 = Date.now();
    const url = `ws://127.0.0.1:${port}/x`;
    await expect(EngineConnection.open({ url, protocol: 'twilio', meta })).rejects.toThrow(`cannot connect to engine ${url}: connection refused`);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('rejects after connectTimeoutMs when the upgrade is never answered', async () => {
    const sockets: net.Socket[] = [];
    const port = await listen(net.createServer((s) => { sockets.push(s); s.on('error', () => undefined); }));
    const t0 = Date.now();
    await expect(EngineConnection.open({ url: `ws://127.0.0.1:${port}/`, protocol: 'twilio', meta, connectTimeoutMs: 300 }))
      .rejects.toThrow(/127\.0\.0\.1:\d+\/: timed out after 300 ms/);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
    for (const s of sockets) s.destroy();
  });

  it('rejects a bad URL without throwing synchronously', async () => {
    await expect(EngineConnection.open({ url: 'http:/nope', protocol: 'twilio', meta })).rejects.toThrow(/cannot connect to engine http:\/nope/);
  });

  it('closes with 1009 and a reason when the engine sends an oversized frame', async () => {
    engine = await startTestEngine({ protocol: 'l16' });
    const conn = await EngineConnection.open({ url: engine.url, protocol: 'l16', meta, maxFrameBytes: 1024 });
    const call = await engine.waitForCall();
    let audio = 0;
    conn.onAudio = () => audio++;
    call.sendRaw(Buffer.alloc(1024));
    call.sendRaw(Buffer.alloc(2048));
    expect(await conn.closed).toEqual({ code: 1009, reason: 'engine sent a frame larger than 1024 bytes', byUs: true });
    await call.waitFor((c) => c.closed !== null);
    expect(call.closed?.code).toBe(1009);
    expect(audio).toBe(1);
  });

  it('survives a callback that throws', async () => {
    engine = await startTestEngine();
    const conn = await EngineConnection.open({ url: engine.url, protocol: 'twilio', meta });
    const call = await engine.waitForCall();
    await call.waitFor((c) => c.start !== undefined);
    const caught: unknown[] = [];
    conn.onHandlerError = (e) => caught.push(e);
    conn.onMark = (n) => { throw new Error(`boom ${n}`); };
    call.sendMark('a');
    call.sendMark('b');
    await call.waitFor(() => caught.length === 2);
    expect(caught.map((e) => (e as Error).message)).toEqual(['boom a', 'boom b']);
    expect(conn.isOpen).toBe(true);
    conn.stop();
  });

  it('closes on a WebSocket protocol violation (invalid UTF-8 text) and says why', async () => {
    engine = await startTestEngine();
    const conn = await EngineConnection.open({ url: engine.url, protocol: 'twilio', meta });
    (await engine.waitForCall()).ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await conn.closed).toMatchObject({ code: 1007, byUs: true, reason: expect.stringMatching(/^engine protocol error: .*UTF-8/) });
  });

  it('drops audio above maxBufferedBytes and gives up on an engine that does not read', async () => {
    engine = await startTestEngine({ protocol: 'l16' });
    const conn = await EngineConnection.open({ url: engine.url, protocol: 'l16', meta, maxBufferedBytes: 64 * 1024 });
    const call = await engine.waitForCall();
    await call.waitFor((c) => c.start !== undefined);
    call.pause();
    const frame = Buffer.alloc(640);
    let sent = 0;
    for (let i = 0; i < 200_000 && conn.stats.backpressure < 50; i++) if (conn.sendAudio(frame, i * 20)) sent++;
    expect(conn.stats.backpressure).toBe(50);
    expect(conn.bufferedAmount).toBeLessThan(64 * 1024 + 2 * 640);
    expect(conn.stats.framesOut).toBe(sent + 1);
    // Control messages still go out until 4x the bound, then the socket is dropped.
    const pad = 'x'.repeat(1000);
    let n = 0;
    while (conn.sendEvent('note', { pad }) && n < 10_000) n++;
    expect(await conn.closed).toMatchObject({ code: 1008, byUs: true, reason: expect.stringMatching(/^engine too slow: \d+ bytes unsent$/) });
    expect(conn.isOpen).toBe(false);
  });
});
