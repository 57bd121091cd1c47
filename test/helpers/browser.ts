/**
 * Headless Chromium for the WebRTC end-to-end tests: Debian's chromium driven by playwright-core
 * (no browser download), with a fake microphone that plays a WAV file in a loop and no
 * permission prompts. Flags as this machine's notes require: without the background-networking
 * ones Chromium keeps trying hosts the closed network refuses.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

/** A mono 16-bit PCM WAV of a sine tone, for --use-file-for-fake-audio-capture. */
export function toneWav(freqHz: number, seconds = 2, rate = 48000, amplitude = 12000): string {
  const n = Math.round(seconds * rate);
  const data = Buffer.alloc(n * 2);
  // A whole number of periods per file so the loop Chromium plays has no click at the seam.
  const f = Math.round(freqHz * seconds) / seconds;
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * f * i) / rate)), 2 * i);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  const file = path.join(tmpdir(), `vagw-tone-${freqHz}-${process.pid}.wav`);
  writeFileSync(file, Buffer.concat([h, data]));
  return file;
}

export function launchChromium(fakeAudioWav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${fakeAudioWav}`,
      '--autoplay-policy=no-user-gesture-required',
      // Host candidates must be real loopback addresses, not mDNS .local names the gateway cannot resolve.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
}

/** Resolves once the demo page's analyser hears `freqHz` (within 25 Hz) above the noise floor. */
export async function pageHearsTone(page: import('playwright-core').Page, freqHz: number, timeoutMs = 10_000): Promise<void> {
  await page.waitForFunction(
    (hz) => {
      const s = (window as unknown as { vagwDemo: { state: { level: number; peakHz: number } } }).vagwDemo.state;
      return s.level > 0.01 && Math.abs(s.peakHz - hz) < 25;
    },
    freqHz,
    { timeout: timeoutMs },
  );
}
