/**
 * Builtin engines, run inside the media worker so the quick start works with no engine at all.
 * - echo: every frame from the caller goes straight back (through the same outbound queue and
 *   pacer as a real engine's audio, so it exercises the whole path).
 * - demo: plays a short prompt (media/assets/demo-prompt.ulaw) and answers each DTMF digit with
 *   its DTMF tone pair.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeMuLaw, MULAW_SILENCE } from '../codec/g711.js';
import { DTMF_FREQS, ToneGenerator } from '../dsp/tone.js';
import type { EngineHandlers, EngineLink } from './link.js';

class EchoEngine implements EngineLink {
  readonly format = 'mulaw8k' as const;
  // It answers each caller frame as it arrives: anything queued beyond jitter is delay.
  readonly realtime = true;
  private stopped = false;
  constructor(private readonly h: EngineHandlers) {}
  sendAudio(frame: Uint8Array): void {
    // The session's queue copies what it is given, so a view of the frame will do.
    if (!this.stopped) this.h.audio(Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  }
  sendDtmf(): void {}
  sendMark(): void {}
  sendEvent(): void {}
  sendError(): void {}
  stop(): void {
    this.stopped = true;
  }
}

let prompt: Buffer | undefined;
function loadPrompt(): Buffer {
  if (!prompt) {
    try {
      prompt = readFileSync(fileURLToPath(new URL('../assets/demo-prompt.ulaw', import.meta.url)));
    } catch {
      // Compiled output (dist/media/...) sits one level deeper than the asset folder.
      prompt = readFileSync(fileURLToPath(new URL('../../../media/assets/demo-prompt.ulaw', import.meta.url)));
    }
  }
  return prompt;
}

/** 160 ms of the digit's tone pair then 40 ms of silence, mu-law. */
export function dtmfToneMuLaw(digit: string): Buffer | null {
  const freqs = DTMF_FREQS[digit];
  if (!freqs) return null;
  const tone = Buffer.from(encodeMuLaw(new ToneGenerator(freqs, 8000, 12000).next(1280)));
  return Buffer.concat([tone, Buffer.alloc(320, MULAW_SILENCE)]);
}

class DemoEngine implements EngineLink {
  readonly format = 'mulaw8k' as const;
  private stopped = false;
  constructor(private readonly h: EngineHandlers) {
    queueMicrotask(() => {
      if (!this.stopped) this.h.audio(loadPrompt());
    });
  }
  sendAudio(): void {}
  sendDtmf(digit: string): void {
    const tone = dtmfToneMuLaw(digit);
    if (tone && !this.stopped) this.h.audio(tone);
  }
  sendMark(): void {}
  sendEvent(): void {}
  sendError(): void {}
  stop(): void {
    this.stopped = true;
  }
}

export function openBuiltin(name: 'echo' | 'demo', h: EngineHandlers): EngineLink {
  return name === 'echo' ? new EchoEngine(h) : new DemoEngine(h);
}
