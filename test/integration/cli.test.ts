/**
 * The vagw command as an operator runs it (built CLI in dist/, run by `npm test` after `tsc`):
 * check-config output, and SIGTERM drain of a running gateway with a call in progress.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SipResponse } from '../../src/sip/message.js';
import { FIXTURES } from '../helpers/gateway.js';
import { inDialog, invite, isFinal, isResponse, OFFER, SipPeer, toTag, type DialogRef } from '../helpers/sip-peer.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

describe('vagw check-config', () => {
  it('accepts the shipped default', () => {
    const r = spawnSync(process.execPath, [CLI, 'check-config', path.join(ROOT, 'gateway.yaml')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('gateway.yaml: OK');
  });

  it('accepts each shipped SIP profile (sip-profiles/*.yaml) with its platform in the sandbox', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vagw-profiles-'));
    const profiles = readdirSync(path.join(ROOT, 'sip-profiles')).filter((f) => f.endsWith('.yaml'));
    expect(profiles.length).toBeGreaterThanOrEqual(4);
    // Each is an alternative (their example numbers overlap): checked one at a time.
    for (const f of profiles) {
      const file = path.join(dir, `${f}-gateway.yaml`);
      writeFileSync(file, `gateway: { name: shipped }\nprofiles:\n  - ${path.join(ROOT, 'sip-profiles', f)}\n`);
      const r = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8' });
      expect(r.stdout + r.stderr, f).toContain(`${file}: OK`);
    }
  });

  it('prints every problem with file, key and reason, and exits 1', () => {
    const file = path.join(FIXTURES, 'broken-gateway.yaml');
    const r = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^\d+ problems found$/);
    for (const key of ['gateway.http.port', 'gateway.limts', 'media.rtpPortMin', 'profiles[0].listen.transports[1]', 'profiles[0].trustedSources[0]']) {
      expect(lines.some((l) => l.startsWith(`${file}: ${key}: `)), key).toBe(true);
    }
    expect(r.stdout).toMatch(/duplicate/i);
  });

  it('refuses to start on an invalid configuration and says why', () => {
    const r = spawnSync(process.execPath, [CLI, 'start', '--config', path.join(FIXTURES, 'broken-gateway.yaml')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('configuration is invalid, nothing started');
  });

  it('explains usage errors', () => {
    const r = spawnSync(process.execPath, [CLI, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('SIGTERM drains', () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill('SIGKILL'));

  it('refuses new INVITEs with 503, lets the call in progress finish, then exits 0', async () => {
    child = spawn(process.execPath, [CLI, 'start', '--config', path.join(FIXTURES, 'drain-gateway.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
    await expect.poll(() => out.includes('"gateway started"'), { timeout: 10_000 }).toBe(true);

    const peer = await SipPeer.open();
    const d: DialogRef = { callId: `drain-${Date.now()}`, number: '+18990000001', fromTag: 'fd', cseq: 1 };
    peer.send(invite(peer, d, OFFER(7100)), 25180);
    const ok = (await peer.next(isFinal('INVITE'))) as SipResponse;
    expect(ok.status).toBe(200);
    d.toTag = toTag(ok);
    peer.send(inDialog(peer, d, 'ACK'), 25180);

    child.kill('SIGTERM');
    await expect.poll(() => out.includes('draining'), { timeout: 5000 }).toBe(true);
    const d2: DialogRef = { callId: `drain2-${Date.now()}`, number: '+18990000002', fromTag: 'fe', cseq: 1 };
    peer.send(invite(peer, d2, OFFER(7102)), 25180);
    const refused = (await peer.next(isFinal('INVITE'))) as SipResponse;
    expect([refused.status, refused.reason, refused.headers.get('Retry-After')]).toEqual([503, 'Gateway draining for shutdown', '5']);
    const health = await fetch('http://127.0.0.1:25181/healthz');
    expect(health.status).toBe(503);

    d.cseq++;
    peer.send(inDialog(peer, d, 'BYE'), 25180);
    await peer.next(isResponse(200, 'BYE'));
    expect(await exited).toBe(0);
    expect(out).toContain('"gateway stopped"');
    peer.close();
  });
});
