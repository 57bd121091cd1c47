/**
 * The engine -> caller queue: audio cut into 20 ms mu-law frames, with `mark`s kept in order
 * between them. Bounded: beyond `maxFrames` audio is dropped and reported (an engine must never
 * make memory grow without limit). A pure data structure; the session paces it out.
 */
export type OutItem = { kind: 'audio'; frame: Buffer } | { kind: 'mark'; name: string };

export class OutboundQueue {
  private items: OutItem[] = [];
  private head = 0;
  private partial: Buffer = Buffer.alloc(0);
  private audio = 0;
  dropped = 0;

  constructor(
    private readonly frameBytes: number,
    private readonly maxFrames: number,
  ) {}

  /** Append mu-law audio of any length. Returns the number of frames dropped for lack of room. */
  pushAudio(data: Buffer): number {
    let buf = this.partial.length ? Buffer.concat([this.partial, data]) : data;
    let dropped = 0;
    while (buf.length >= this.frameBytes) {
      if (this.audio >= this.maxFrames) dropped++;
      else {
        this.items.push({ kind: 'audio', frame: Buffer.from(buf.subarray(0, this.frameBytes)) });
        this.audio++;
      }
      buf = buf.subarray(this.frameBytes);
    }
    this.partial = Buffer.from(buf);
    this.dropped += dropped;
    return dropped;
  }

  /** Whole buffers that must be played even past the bound (the failure-policy announcement). */
  pushUnbounded(data: Buffer): void {
    for (let i = 0; i + this.frameBytes <= data.length; i += this.frameBytes) {
      this.items.push({ kind: 'audio', frame: Buffer.from(data.subarray(i, i + this.frameBytes)) });
      this.audio++;
    }
  }

  pushMark(name: string): void {
    // Audio still in `partial` was queued before the mark: flush it, padded, so the mark follows it.
    if (this.partial.length) {
      const pad = Buffer.alloc(this.frameBytes, 0xff);
      this.partial.copy(pad);
      this.items.push({ kind: 'audio', frame: pad });
      this.audio++;
      this.partial = Buffer.alloc(0);
    }
    this.items.push({ kind: 'mark', name });
  }

  /** Marks at the head of the queue (their audio has been sent). */
  takeMarks(): string[] {
    const out: string[] = [];
    while (this.head < this.items.length && this.items[this.head]!.kind === 'mark') {
      out.push((this.items[this.head++] as { name: string }).name);
    }
    this.compact();
    return out;
  }

  /** Next audio frame, or undefined when the engine has nothing queued (silence is sent). */
  takeFrame(): Buffer | undefined {
    const it = this.items[this.head];
    if (!it || it.kind !== 'audio') return undefined;
    this.head++;
    this.audio--;
    this.compact();
    return it.frame;
  }

  /** `clear`: drop all queued audio at once; the pending marks are returned to be echoed. */
  clear(): string[] {
    const marks = this.items.slice(this.head).filter((i): i is { kind: 'mark'; name: string } => i.kind === 'mark').map((m) => m.name);
    this.items = [];
    this.head = 0;
    this.audio = 0;
    this.partial = Buffer.alloc(0);
    return marks;
  }

  get queuedFrames(): number {
    return this.audio;
  }

  get empty(): boolean {
    return this.head >= this.items.length;
  }

  private compact(): void {
    if (this.head > 256 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
