/**
 * The engine -> caller queue: audio cut into 20 ms mu-law frames, with `mark`s kept in order
 * between them. Bounded: beyond `maxFrames` audio is dropped and reported (an engine must never
 * make memory grow without limit). A pure data structure; the session paces it out.
 *
 * The frames live in one ring of fixed-size slots owned by the queue (grown on demand, shrunk
 * back after a burst), so queuing a frame allocates nothing, and a frame that was sent holds no
 * memory: an earlier version kept every frame as its own Buffer in an array compacted only every
 * 256 frames, and each of those pinned an 8 KB slab of Node's Buffer pool for as long.
 * A mark is stored with the number of frames queued before it.
 */

/** Slots a queue starts with (and shrinks back to): 80 ms, what a real-time engine keeps queued. */
const INITIAL_SLOTS = 4;
/** Past this many slots an empty queue gives its ring back (after a long prompt, say). */
const SHRINK_ABOVE_SLOTS = 64;
const NO_MARKS: string[] = Object.freeze([]) as unknown as string[];

export class OutboundQueue {
  private ring: Buffer;
  private slots: number;
  /** Slot of the oldest queued frame, and how many frames are queued. */
  private first = 0;
  private count = 0;
  /** Frames ever queued and ever taken (marks are positioned on this count). */
  private queued = 0;
  private taken = 0;
  private marks: { name: string; at: number }[] = [];
  private markHead = 0;
  private readonly partial: Buffer;
  private partialLen = 0;
  dropped = 0;

  constructor(
    private readonly frameBytes: number,
    private readonly maxFrames: number,
  ) {
    this.slots = INITIAL_SLOTS;
    this.ring = Buffer.allocUnsafeSlow(this.slots * frameBytes);
    this.partial = Buffer.allocUnsafeSlow(frameBytes);
  }

  /** Append mu-law audio of any length (copied). Returns the number of frames dropped for lack of room. */
  pushAudio(data: Uint8Array): number {
    const fb = this.frameBytes;
    let off = 0;
    let dropped = 0;
    if (this.partialLen) {
      const n = Math.min(fb - this.partialLen, data.length);
      this.partial.set(data.subarray(0, n), this.partialLen);
      this.partialLen += n;
      off = n;
      if (this.partialLen < fb) return 0;
      this.partialLen = 0;
      if (this.count >= this.maxFrames) dropped++;
      else this.put(this.partial, 0);
    }
    for (; data.length - off >= fb; off += fb) {
      if (this.count >= this.maxFrames) dropped++;
      else this.put(data, off);
    }
    if (off < data.length) {
      this.partial.set(data.subarray(off), 0);
      this.partialLen = data.length - off;
    }
    this.dropped += dropped;
    return dropped;
  }

  /** Whole buffers that must be played even past the bound (the failure-policy announcement). */
  pushUnbounded(data: Uint8Array): void {
    for (let i = 0; i + this.frameBytes <= data.length; i += this.frameBytes) this.put(data, i);
  }

  pushMark(name: string): void {
    // Audio still in `partial` was queued before the mark: flush it, padded, so the mark follows it.
    if (this.partialLen) {
      this.partial.fill(0xff, this.partialLen);
      this.partialLen = 0;
      this.put(this.partial, 0);
    }
    this.marks.push({ name, at: this.queued });
  }

  /** Marks at the head of the queue (their audio has been sent). */
  takeMarks(): string[] {
    if (this.markHead >= this.marks.length || this.marks[this.markHead]!.at > this.taken) return NO_MARKS;
    const out: string[] = [];
    while (this.markHead < this.marks.length && this.marks[this.markHead]!.at <= this.taken) out.push(this.marks[this.markHead++]!.name);
    if (this.markHead === this.marks.length) {
      this.marks.length = 0;
      this.markHead = 0;
    }
    return out;
  }

  /**
   * Next audio frame, or undefined when the engine has nothing queued (silence is sent) or a mark
   * must be taken first. The frame is a view of the queue's ring: use it before the next push.
   */
  takeFrame(): Buffer | undefined {
    if (this.count === 0) return undefined;
    if (this.markHead < this.marks.length && this.marks[this.markHead]!.at <= this.taken) return undefined;
    const at = this.first * this.frameBytes;
    this.first = this.first + 1 === this.slots ? 0 : this.first + 1;
    this.count--;
    this.taken++;
    const frame = this.ring.subarray(at, at + this.frameBytes);
    if (this.count === 0) this.shrink();
    return frame;
  }

  /** `clear`: drop all queued audio at once; the pending marks are returned to be echoed. */
  clear(): string[] {
    const marks = this.marks.slice(this.markHead).map((m) => m.name);
    this.marks = [];
    this.markHead = 0;
    this.first = 0;
    this.count = 0;
    this.queued = this.taken;
    this.partialLen = 0;
    this.shrink();
    return marks;
  }

  /**
   * Drop up to `n` of the oldest queued frames as if sent (never past a pending mark, whose
   * position must stay true). Returns how many were dropped.
   */
  skip(n: number): number {
    let done = 0;
    while (done < n && this.count > 0 && !(this.markHead < this.marks.length && this.marks[this.markHead]!.at <= this.taken)) {
      this.first = this.first + 1 === this.slots ? 0 : this.first + 1;
      this.count--;
      this.taken++;
      done++;
    }
    if (this.count === 0) this.shrink();
    return done;
  }

  get queuedFrames(): number {
    return this.count;
  }

  get empty(): boolean {
    return this.count === 0 && this.markHead >= this.marks.length;
  }

  /** Copy one frame from `src` at `off` into the next slot. */
  private put(src: Uint8Array, off: number): void {
    if (this.count === this.slots) this.grow();
    let slot = this.first + this.count;
    if (slot >= this.slots) slot -= this.slots;
    this.ring.set(src.subarray(off, off + this.frameBytes), slot * this.frameBytes);
    this.count++;
    this.queued++;
  }

  private grow(): void {
    const fb = this.frameBytes;
    const next = Buffer.allocUnsafeSlow(this.slots * 2 * fb);
    // Unroll the ring: the oldest frame goes to slot 0.
    const head = this.ring.subarray(this.first * fb);
    next.set(head, 0);
    next.set(this.ring.subarray(0, this.first * fb), head.length);
    this.ring = next;
    this.first = 0;
    this.slots *= 2;
  }

  private shrink(): void {
    if (this.slots <= SHRINK_ABOVE_SLOTS) return;
    this.slots = INITIAL_SLOTS;
    this.first = 0;
    this.ring = Buffer.allocUnsafeSlow(this.slots * this.frameBytes);
  }
}
