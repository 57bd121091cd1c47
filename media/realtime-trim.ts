/**
 * Keeps the engine -> caller delay of a real-time far end from creeping up. Such a far end sends
 * one frame per 20 ms as it happens; each time one of its frames misses its pacing slot (network
 * or scheduler jitter) the queue gets one frame deeper, and nothing ever drains it again, so the
 * delay grows 20 ms at a time for the rest of the call. This watches the smallest queue depth
 * over a window: if the queue never ran below `keep + 1` frames in a whole window, the frames
 * above `keep` were pure delay, and one is dropped (at most one per window, so the audible effect
 * is a 20 ms skip at most once a second, as in any adaptive playout buffer).
 * Engines that send ahead of real time (TTS bursts) must not use it: their queue is the prompt.
 */
export class RealtimeTrim {
  private minDepth = Infinity;
  private ticks = 0;
  trimmed = 0;

  constructor(
    /** Frames of slack to keep for jitter (default 1 = 20 ms). */
    private readonly keep = 1,
    /** Window in ticks (default 50 = 1 s). */
    private readonly window = 50,
  ) {}

  /** Called once per pacing tick with the queue depth after the tick's frame was taken; returns frames to drop now. */
  observe(depth: number): number {
    if (depth < this.minDepth) this.minDepth = depth;
    if (++this.ticks < this.window) return 0;
    const excess = this.minDepth > this.keep ? 1 : 0;
    this.ticks = 0;
    this.minDepth = Infinity;
    return excess;
  }
}
