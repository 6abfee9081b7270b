import { SCAN_CHUNK } from '../common/byte-map.js';
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
  /** passes over up to `length` bytes, handing them to `visit` in pieces (each valid only during the call); returns how many there were */
  scan(length: number, visit: (bytes: Buffer) => void): Promise<number>;
}

const WINDOW = 64 * 1024;

/** Binary OpenPGP straight from the source: skipping a body costs nothing, scanning one reuses a buffer. */
export function sourceReader(source: ByteSource): ByteReader {
  let position = 0;
  let window: Buffer = Buffer.alloc(0);
  let windowStart = 0;
  let scratch: Buffer | undefined;
  let scanned: Buffer = Buffer.alloc(0);
  let scanStart = 0;
  return {
    async read(length) {
      if (position >= scanStart && position + length <= scanStart + scanned.length) {
        // a header between partial chunks of a scanned body: copied, as the scan window is reused
        const out = Buffer.from(scanned.subarray(position - scanStart, position - scanStart + length));
        position += out.length;
        return out;
      }
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
    async scan(length, visit) {
      const end = Math.min(source.size, position + Math.max(0, length));
      const start = position;
      while (position < end) {
        // a read-ahead window of its own (read's views stay valid): a body of many small partial chunks costs few reads
        if (position < scanStart || position >= scanStart + scanned.length) {
          scratch ??= Buffer.allocUnsafe(SCAN_CHUNK);
          scanned = await source.read(position, SCAN_CHUNK, scratch);
          scanStart = position;
          if (scanned.length === 0) break;
        }
        const piece = scanned.subarray(position - scanStart, Math.min(end, scanStart + scanned.length) - scanStart);
        visit(piece);
        position += piece.length;
      }
      return position - start;
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
      // a view, not a copy: the decoder hands over fresh buffers
      else pending = pending.length === 0 ? Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength) : Buffer.concat([pending, next.value]);
    }
  }
  function take(length: number): Buffer {
    const out = pending.subarray(0, length);
    pending = pending.subarray(out.length);
    return out;
  }
  async function scan(length: number, visit: (bytes: Buffer) => void): Promise<number> {
    let passed = 0;
    while (passed < length) {
      // what is pending first, then one decoded piece at a time: joining pieces would copy them
      if (pending.length === 0) await fill(1);
      if (pending.length === 0) break;
      const piece = take(length - passed);
      visit(piece);
      passed += piece.length;
    }
    return passed;
  }
  return {
    async read(length) {
      await fill(length);
      return Buffer.from(take(length));
    },
    skip: (length) => scan(length, () => undefined),
    scan,
    cancel: () => reader.cancel().catch(() => undefined),
  };
}
