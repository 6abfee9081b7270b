import type { ByteSource } from '../common/source.js';

/**
 * Forward-only reading of an OpenPGP byte stream, whether it comes from the file itself (binary) or
 * out of the armor decoder. The packet walker reads headers and skips bodies, so the memory used is
 * one window, whatever the size of the message.
 */
export interface ByteReader {
  /** up to `length` bytes; shorter only at the end of the stream */
  read(length: number): Promise<Buffer>;
  /** skips up to `length` bytes, returns how many there were */
  skip(length: number): Promise<number>;
}

const WINDOW = 64 * 1024;

/** Binary OpenPGP straight from the source: skipping a body costs nothing. */
export function sourceReader(source: ByteSource): ByteReader {
  let position = 0;
  let window: Buffer = Buffer.alloc(0);
  let windowStart = 0;
  return {
    async read(length) {
      const inWindow = position >= windowStart && position + length <= windowStart + window.length;
      if (!inWindow) {
        // one window per refill, so a stream of tiny partial-length chunks costs few reads
        window = await source.read(position, Math.max(length, WINDOW));
        windowStart = position;
      }
      const out = window.subarray(position - windowStart, position - windowStart + length);
      position += out.length;
      return out;
    },
    async skip(length) {
      const skipped = Math.max(0, Math.min(length, source.size - position));
      position += skipped;
      return skipped;
    },
  };
}

/** Bytes out of a web stream (the armor decoder's output): skipping means reading and dropping. */
export function streamReader(stream: ReadableStream<Uint8Array>): ByteReader & { cancel(): Promise<void> } {
  const reader = stream.getReader();
  let pending: Buffer = Buffer.alloc(0);
  let done = false;
  async function fill(length: number): Promise<void> {
    while (pending.length < length && !done) {
      const next = await reader.read();
      if (next.done) done = true;
      else pending = pending.length === 0 ? Buffer.from(next.value) : Buffer.concat([pending, next.value]);
    }
  }
  function take(length: number): Buffer {
    const out = pending.subarray(0, length);
    pending = pending.subarray(out.length);
    return out;
  }
  return {
    async read(length) {
      await fill(length);
      return Buffer.from(take(length));
    },
    async skip(length) {
      let skipped = 0;
      while (skipped < length) {
        await fill(Math.min(length - skipped, WINDOW));
        if (pending.length === 0) break;
        skipped += take(length - skipped).length;
      }
      return skipped;
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}
