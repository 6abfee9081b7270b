/**
 * The bytes of one upload segment on their way to the store's writer, which pulls them with
 * `for await`. Unlike a PassThrough, whose async iterator concatenates everything buffered into a
 * fresh buffer at every read (a second copy of the upload, made of ~1 MiB ArrayBuffers that drive
 * V8 into a full garbage collection every few MiB), each chunk is handed over as it came.
 *
 * At most `maxBytes` wait (counting the chunk the writer holds): `push` returns a promise to await
 * only when the queue is full. A chunk is the writer's until it asks for the next one; then
 * `onReleased` gets it back (for reuse).
 */
export class ChunkQueue implements AsyncIterable<Buffer> {
  private chunks: Array<Buffer | undefined> = [];
  private head = 0;
  private bytes = 0;
  private held?: Buffer;
  private ended = false;
  private stopped = false;
  private wakeReader?: () => void;
  private space?: { promise: Promise<void>; resolve: () => void };

  constructor(
    private readonly maxBytes: number,
    private readonly onReleased?: (chunk: Buffer) => void,
  ) {}

  /** Queues `chunk`; returns a promise when the queue is full, to wait for room. Throws once the reader has stopped. */
  push(chunk: Buffer): Promise<void> | undefined {
    if (this.stopped) throw new Error('the store stopped reading this upload');
    if (this.ended) throw new Error('push after end');
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.wake();
    if (this.bytes < this.maxBytes) return undefined;
    if (!this.space) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.space = { promise, resolve };
    }
    return this.space.promise;
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () => this.next(),
      return: () => {
        this.stop();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private async next(): Promise<IteratorResult<Buffer>> {
    this.release();
    while (this.head === this.chunks.length) {
      if (this.ended || this.stopped) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
    const chunk = this.chunks[this.head]!;
    this.chunks[this.head++] = undefined;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    }
    this.held = chunk;
    return { done: false, value: chunk };
  }

  /** The reader is done with the chunk it held: its bytes leave the count, the producer may go on. */
  private release(): void {
    const chunk = this.held;
    if (!chunk) return;
    this.held = undefined;
    this.bytes -= chunk.length;
    this.onReleased?.(chunk);
    if (this.space && this.bytes < this.maxBytes) {
      this.space.resolve();
      this.space = undefined;
    }
  }

  /** The reader gave up (the store failed): nothing more is read; a producer waiting for room is let go. */
  private stop(): void {
    this.stopped = true;
    this.release();
    this.chunks = [];
    this.head = 0;
    this.space?.resolve();
    this.space = undefined;
    this.wake();
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }
}
