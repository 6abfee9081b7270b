import { Readable } from 'node:stream';
import { newId } from '../ids.js';
import type { KeyRing } from '../keys/ring.js';
import type { Logger } from '../log.js';
import type { BlobBackend } from './backend.js';
import { assertId, assertPrefix, makeId } from './names.js';
import { decryptContent, openObject, readMeta, readTrailer } from './reader.js';
import { rangeReader, type RangeReader } from './range.js';
import { rewrapObjects } from './rewrap.js';
import { storage } from './storage-errors.js';
import type { ObjectInfo, ObjectMeta, ObjectStore, PutOptions, PutResult } from './types.js';
import { writeObject } from './writer.js';

/** The encrypted object store: envelope encryption (format.ts) over any BlobBackend. */
export class EncryptedStore implements ObjectStore {
  constructor(
    private readonly backend: BlobBackend,
    private readonly keys: KeyRing,
    private readonly logger: Logger,
  ) {}

  /** Creates the storage and removes temp blobs of crashed writers. */
  init(): Promise<void> {
    return storage('initialise the store', () => this.backend.init());
  }

  async put(namespace: string, body: Readable | AsyncIterable<Uint8Array>, meta: ObjectMeta, options: PutOptions = {}): Promise<PutResult> {
    const id = makeId(namespace, options.name ?? newId());
    const writer = await storage('create a temp object', () => this.backend.createWriteTemp());
    try {
      const sink = (chunks: Buffer[]) => storage('write an object', () => writer.write(chunks));
      const { size, sha256 } = await writeObject(id, body, meta, this.keys.active, sink);
      await storage('commit an object', () => writer.commit(id));
      this.logger.debug({ objectId: id, size }, 'object stored');
      return { id, size, sha256 };
    } catch (err) {
      // whatever failed (body, disk, crypto), no temp file outlives the put
      await writer.abort().catch((e: unknown) => this.logger.warn({ objectId: id, err: e }, 'temp object not removed'));
      throw err;
    }
  }

  /**
   * A missing, unreadable or cut object rejects here; damage further in surfaces as a stream
   * error (OBJECT_CORRUPT), raised before the damaged chunk's plaintext would be emitted.
   */
  async get(id: string): Promise<Readable> {
    assertId(id);
    const opened = await openObject(this.backend, this.keys, id);
    try {
      readMeta(opened); // so damage anywhere in the object fails a read, not only a head
      const { size } = await readTrailer(opened);
      const stream = Readable.from(decryptContent(opened, size), { objectMode: false, highWaterMark: 1 << 20 });
      // on 'close', not in the generator: a stream destroyed before its first read never runs the generator's finally
      stream.once('close', () => void opened.reader.close().catch(() => undefined));
      return stream;
    } catch (err) {
      await opened.reader.close();
      throw err;
    }
  }

  /** Random access to the plaintext (for the verifiers), each range authenticated before it is returned. */
  async openRange(id: string): Promise<RangeReader> {
    assertId(id);
    const opened = await openObject(this.backend, this.keys, id);
    try {
      readMeta(opened);
      const { size } = await readTrailer(opened);
      return rangeReader(opened, size);
    } catch (err) {
      await opened.reader.close();
      throw err;
    }
  }

  async head(id: string): Promise<ObjectInfo> {
    assertId(id);
    const opened = await openObject(this.backend, this.keys, id);
    try {
      const { createdAt, meta } = readMeta(opened);
      const { size, sha256 } = await readTrailer(opened);
      return { id, size, sha256, createdAt, keyId: opened.header.wrap.keyId, meta };
    } finally {
      await opened.reader.close();
    }
  }

  exists(id: string): Promise<boolean> {
    assertId(id);
    return storage('look up an object', () => this.backend.exists(id));
  }

  list(prefix: string): Promise<string[]> {
    assertPrefix(prefix);
    return storage('list objects', () => this.backend.list(prefix));
  }

  /** Idempotent: deleting what is not there is not an error (a retried purge job must succeed). */
  async delete(id: string): Promise<void> {
    assertId(id);
    await storage('delete an object', () => this.backend.delete(id));
  }

  /** Re-wraps every data key under the active master key; returns how many objects changed. */
  rewrap(): Promise<number> {
    return rewrapObjects(this.backend, this.keys, this.logger);
  }
}
