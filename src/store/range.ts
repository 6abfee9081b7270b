import type { OpenedObject } from './reader.js';
import { chunkCount, corrupt, TAG_BYTES } from './format.js';
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

/** The caller has checked the trailer (readTrailer) and passes its size; the reader owns `o.reader`. */
export function rangeReader(o: OpenedObject, size: number): RangeReader {
  const n = chunkCount(size, o.chunkSize);
  const recordStart = (i: number) => o.headerBytes + i * (o.chunkSize + TAG_BYTES);
  const plainBytes = (i: number) => (i < n - 1 ? o.chunkSize : size - (n - 1) * o.chunkSize);
  const readChunk = async (i: number): Promise<Buffer> => {
    const record = await storage('read an object', () => o.reader.read(recordStart(i), plainBytes(i) + TAG_BYTES));
    try {
      return o.cipher.openChunk(i, i === n - 1, record);
    } catch (err) {
      throw corrupt(o.id, `chunk ${i} fails authentication (altered, moved or from another object)`, err);
    }
  };
  return {
    size,
    async read(offset, length) {
      const start = clamp(offset, size);
      const end = clamp(offset + length, size);
      if (end <= start) return Buffer.alloc(0);
      const parts: Buffer[] = [];
      for (let i = Math.floor(start / o.chunkSize); i * o.chunkSize < end; i++) {
        const plain = await readChunk(i);
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
