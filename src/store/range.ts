import type { OpenedObject } from './reader.js';
import { chunkCount, corrupt, recordBytes, TAG_BYTES } from './format.js';
import { storage } from './storage-errors.js';

/**
 * Random access into an object's plaintext: read(offset, length) decrypts and authenticates only
 * the chunks that cover the range. The verifiers read a file this way (a zip's central directory
 * at the end, a 7z header) after an upload streamed it into the store, so no plaintext copy ever
 * touches the disk and memory stays at a few chunks whatever the size.
 */
export interface RangeReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Read ahead while the reader goes front to back: the verifiers read a whole encrypted archive
 * that way, 1 MiB at a time, and an object written past the page cache (src/store/direct-io.ts)
 * comes back from the disk, one read per chunk waiting for the one before. A read that starts
 * where the previous one ended, once such reads have covered a chunk since the last seek, has the
 * next AHEAD_BYTES on their way in one backend read; any other read (a zip's central directory, a
 * seek) drops what was read ahead. A hostile archive that makes the verifier seek after every few
 * bytes thus never reads ahead, and one that reads a chunk's worth first gets at most AHEAD_BYTES
 * read in vain for it.
 */
const AHEAD_BYTES = 1 << 20;

/** The caller has checked the trailer (readTrailer) and passes its size; the reader owns `o.reader`. */
export function rangeReader(o: OpenedObject, size: number): RangeReader {
  const n = chunkCount(size, o.chunkSize);
  const recordStart = (i: number) => o.headerBytes + i * (o.chunkSize + TAG_BYTES);
  const sealedBytes = (i: number) => recordBytes(size, o.chunkSize, i);
  const aheadChunks = Math.max(1, Math.floor(AHEAD_BYTES / o.chunkSize));
  /** raw records on their way, by chunk index */
  const fetched = new Map<number, Promise<Buffer>>();
  /** the last chunk deciphered: a read that ends inside it is followed by one that starts there */
  let last: { index: number; plain: Buffer } | undefined;
  let nextSequential = 0;
  let sequentialBytes = 0;

  const fetch = (first: number, lastIndex: number): void => {
    const base = recordStart(first);
    const reading = storage('read an object', () => o.reader.read(base, recordStart(lastIndex) - base + sealedBytes(lastIndex)));
    for (let i = first; i <= lastIndex; i++) {
      const from = recordStart(i) - base;
      const record = reading.then((span) => span.subarray(from, from + sealedBytes(i)));
      // dropped unread by a seek: the reader's close still waits for the read itself
      record.catch(() => undefined);
      fetched.set(i, record);
    }
  };
  const chunk = async (i: number): Promise<Buffer> => {
    if (last?.index === i) return last.plain;
    if (!fetched.has(i)) fetch(i, i);
    const record = await fetched.get(i)!;
    fetched.delete(i);
    try {
      last = { index: i, plain: o.cipher.openChunk(i, i === n - 1, record) };
      return last.plain;
    } catch (err) {
      throw corrupt(o.id, `chunk ${i} fails authentication (altered, moved or from another object)`, err);
    }
  };
  /** Chunks first..through and the next AHEAD_BYTES requested, the missing ones in one read. */
  const readAhead = (first: number, through: number): void => {
    const until = Math.min(n - 1, through + aheadChunks);
    let from = first;
    while (from <= until && (fetched.has(from) || last?.index === from)) from++;
    if (from <= until) fetch(from, until);
  };
  return {
    size,
    async read(offset, length) {
      const start = clamp(offset, size);
      const end = clamp(offset + length, size);
      if (end <= start) return Buffer.alloc(0);
      const firstChunk = Math.floor(start / o.chunkSize);
      const lastChunk = Math.floor((end - 1) / o.chunkSize);
      if (start === nextSequential) sequentialBytes += end - start;
      else {
        sequentialBytes = end - start;
        fetched.clear();
      }
      if (sequentialBytes >= o.chunkSize) readAhead(firstChunk, lastChunk);
      nextSequential = end;
      const parts: Buffer[] = [];
      for (let i = firstChunk; i <= lastChunk; i++) {
        const plain = await chunk(i);
        const base = i * o.chunkSize;
        parts.push(plain.subarray(Math.max(0, start - base), Math.min(plain.length, end - base)));
      }
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
    close: () => o.reader.close(),
  };
}

function clamp(value: number, size: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  return Math.min(value, size);
}
