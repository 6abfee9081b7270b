import { CasedropError, ErrorCode } from '../errors.js';
import type { BlobBackend, BlobReader } from './backend.js';
import { ObjectCipher } from './crypto.js';
import { unwrapObjectKey, type KeySource } from './key-source.js';
import type { ObjectMeta } from './types.js';
import {
  blobLength,
  chunkCount,
  corrupt,
  decodeFixed,
  decodeHeader,
  decodeTrailer,
  headerLength,
  recordBytes,
  TAG_BYTES,
  TRAILER_BYTES,
  truncated,
  type ObjectHeader,
} from './format.js';
import { storage } from './storage-errors.js';
import { release } from '../release.js';

/**
 * Bytes fetched per backend read: one syscall (or range GET) per ~1 MiB, whatever the chunk size.
 * The next span is read while this one is deciphered: a large object written past the page cache
 * (src/store/direct-io.ts) is read back from the disk, and its verification (the whole of an
 * encrypted archive) then waited for every read in turn.
 */
const SPAN_BYTES = 1 << 20;
const FIRST_READ_BYTES = 4096;

export interface OpenedObject {
  id: string;
  reader: BlobReader;
  header: ObjectHeader;
  headerBytes: number;
  chunkSize: number;
  dataKey: Buffer;
  cipher: ObjectCipher;
}

/** Reads and authenticates nothing but the header: unwraps the data key. The caller closes `reader`. */
export async function openObject(backend: BlobBackend, keys: KeySource, id: string): Promise<OpenedObject> {
  const reader = await storage('open an object', () => backend.openRead(id));
  if (!reader) throw new CasedropError(ErrorCode.ObjectNotFound, `object ${id} does not exist`);
  try {
    let buf = await reader.read(0, FIRST_READ_BYTES);
    const fixed = decodeFixed(buf, id);
    const headerBytes = headerLength(fixed);
    if (buf.length < headerBytes) buf = await reader.read(0, headerBytes);
    const header = decodeHeader(buf, fixed, id);
    const dataKey = await unwrapObjectKey(keys, header, id);
    const cipher = new ObjectCipher(dataKey, header.salt, id, header.chunkLog2);
    return { id, reader, header, headerBytes, chunkSize: 1 << header.chunkLog2, dataKey, cipher };
  } catch (err) {
    await reader.close();
    throw err;
  }
}

export function readMeta(o: OpenedObject): { createdAt: string; meta: ObjectMeta } {
  let parsed: { createdAt?: unknown; meta?: unknown };
  try {
    parsed = JSON.parse(o.cipher.openMeta(o.header.meta).toString('utf8'));
  } catch (err) {
    throw corrupt(o.id, 'its meta section fails authentication', err);
  }
  return { createdAt: String(parsed.createdAt), meta: (parsed.meta ?? {}) as ObjectMeta };
}

/**
 * The trailer is read before any content: it proves the blob ends where the writer ended it and
 * tells the plaintext size, hence where the final chunk is. A cut file loses it.
 */
export async function readTrailer(o: OpenedObject): Promise<{ size: number; sha256: string }> {
  const total = o.reader.size;
  if (total < o.headerBytes + TAG_BYTES + TRAILER_BYTES) throw truncated(o.id, 'shorter than an empty object');
  const sealed = await o.reader.read(total - TRAILER_BYTES, TRAILER_BYTES);
  let trailer;
  try {
    trailer = decodeTrailer(o.cipher.openTrailer(sealed));
  } catch {
    throw truncated(o.id, 'its end marker does not authenticate (cut short, or damaged at the end)');
  }
  const expected = blobLength(o.headerBytes, trailer.size, o.chunkSize);
  if (total < expected) throw truncated(o.id, `${expected - total} bytes are missing`);
  if (total > expected) throw corrupt(o.id, `${total - expected} bytes more than written`);
  return trailer;
}

/** Yields plaintext chunk by chunk, each only after its tag verified. The caller closes the reader. */
export async function* decryptContent(o: OpenedObject, size: number): AsyncGenerator<Buffer> {
  const n = chunkCount(size, o.chunkSize);
  const sealedBytes = (i: number) => recordBytes(size, o.chunkSize, i);
  const spanChunks = Math.max(1, Math.floor(SPAN_BYTES / o.chunkSize));
  let position = o.headerBytes;
  const readSpan = (first: number) => {
    const last = Math.min(first + spanChunks, n) - 1;
    const spanBytes = (last - first) * (o.chunkSize + TAG_BYTES) + sealedBytes(last);
    const at = position;
    position += spanBytes;
    const reading = storage('read an object', () => o.reader.read(at, spanBytes)).then((span) => ({ span, last, spanBytes }));
    // a consumer that stops early leaves the next span unread; the reader's close waits for it
    reading.catch(() => undefined);
    return reading;
  };
  let next = n > 0 ? readSpan(0) : undefined;
  for (let first = 0; next !== undefined; first += spanChunks) {
    const { span, last, spanBytes } = await next;
    if (span.length < spanBytes) throw truncated(o.id, `ends inside chunk ${first}`);
    next = last + 1 < n ? readSpan(last + 1) : undefined;
    for (let i = first, at = 0; i <= last; i++) {
      const record = span.subarray(at, (at += sealedBytes(i)));
      const plain = openChunk(o, i, i === n - 1, record);
      if (plain.length > 0) yield plain;
    }
    // every chunk of it is deciphered into a buffer of its own: the 1 MiB read goes now, not after
    // V8 has let tens of MiB of them pile up (a 20 MB message is 20 of them)
    release(span);
  }
}

function openChunk(o: OpenedObject, index: number, final: boolean, record: Buffer): Buffer {
  try {
    return o.cipher.openChunk(index, final, record);
  } catch (err) {
    throw corrupt(o.id, `chunk ${index} fails authentication (altered, moved or from another object)`, err);
  }
}
