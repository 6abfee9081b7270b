import type { Readable } from 'node:stream';

/** Pulls lines and counted bytes from a channel, so backpressure is the reading itself. */
export class StreamReader {
  private readonly it: AsyncIterator<Buffer>;
  private rest: Buffer = Buffer.alloc(0);

  constructor(stream: Readable) {
    // not the default iterator: it destroys the channel at the end, before the exit status is sent
    this.it = stream.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  }

  private async fill(): Promise<boolean> {
    const next = await this.it.next();
    if (next.done) return false;
    this.rest = this.rest.length ? Buffer.concat([this.rest, next.value]) : next.value;
    return true;
  }

  /** A line without its `\n`; undefined at end of stream; throws past `max` bytes. */
  async line(max: number): Promise<string | undefined> {
    for (let scanned = 0; ;) {
      const nl = this.rest.indexOf(0x0a, scanned);
      if (nl >= 0) {
        const line = this.rest.subarray(0, nl).toString('utf8');
        this.rest = this.rest.subarray(nl + 1);
        return line;
      }
      scanned = this.rest.length;
      if (scanned > max) throw new Error('control record too long');
      if (!(await this.fill())) {
        if (this.rest.length) throw new Error('connection closed inside a record');
        return undefined;
      }
    }
  }

  async byte(): Promise<number | undefined> {
    if (!this.rest.length && !(await this.fill())) return undefined;
    const b = this.rest[0]!;
    this.rest = this.rest.subarray(1);
    return b;
  }

  /** Exactly `n` bytes, in pieces as they arrive; throws if the stream ends first. */
  async *bytes(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!this.rest.length && !(await this.fill())) throw new Error('connection closed inside a file');
      const piece = this.rest.subarray(0, Math.min(left, this.rest.length));
      this.rest = this.rest.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }
}
