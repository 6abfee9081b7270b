import { Readable } from 'node:stream';
import { newId } from '../ids.js';
import type { KeyRing } from '../keys/ring.js';
import type { ShredKeyStore } from '../keys/shred-store.js';
import { isShreddable, wrappingKeyFor, type KeySource } from './key-source.js';
import type { Logger } from '../log.js';
import type { BlobBackend } from './backend.js';
import { assertId, assertNamespace, assertPrefix, makeId, quarantineId } from './names.js';
import { decryptContent, openObject, readMeta, readTrailer } from './reader.js';
import { rangeReader, type RangeReader } from './range.js';
import { rewrapObjects } from './rewrap.js';
import { storage } from './storage-errors.js';
import type { ObjectInfo, ObjectMeta, ObjectStore, PutOptions, PutResult } from './types.js';
import { writeObject } from './writer.js';

/** The encrypted object store: envelope encryption (format.ts) over any BlobBackend. */
export class EncryptedStore implements ObjectStore {
  private readonly src: KeySource;

  /** Without `shred`, every object is written under the master key (format 1) and format 2 does not read. */
  constructor(
    private readonly backend: BlobBackend,
    keys: KeyRing,
    private readonly logger: Logger,
    readonly shred?: ShredKeyStore,
  ) {
    this.src = { keys, shred };
  }

  /** Creates the storage and removes temp blobs of crashed writers. */
  init(): Promise<void> {
    return storage('initialise the store', () => this.backend.init());
  }

  async put(namespace: string, body: Readable | AsyncIterable<Uint8Array>, meta: ObjectMeta, options: PutOptions = {}): Promise<PutResult> {
    const id = makeId(namespace, options.name ?? newId());
    const writer = await storage('create a temp object', () => this.backend.createWriteTemp());
    try {
      const sink = (chunks: Buffer[]) => storage('write an object', () => writer.write(chunks));
      const { size, sha256 } = await writeObject(id, body, meta, await wrappingKeyFor(this.src, id), sink, options);
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
    const opened = await openObject(this.backend, this.src, id);
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
    const opened = await openObject(this.backend, this.src, id);
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
    const opened = await openObject(this.backend, this.src, id);
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

  /**
   * Idempotent: deleting what is not there is not an error (a retried purge job must succeed). An object
   * with its own key loses the key too, so older copies of it (backups of the data dir) go with it. The
   * object goes first: a process killed in between leaves an unused key, never an object that exists
   * but cannot be read (the intake would retry such a spool object until it dead-letters). With
   * `mayReappear` the object's unlink is not fsynced but the key's destruction is: after a power loss
   * the object may be back without its key, which only a caller that never reads it again may accept.
   */
  async delete(id: string, options: { mayReappear?: boolean } = {}): Promise<void> {
    assertId(id);
    await storage('delete an object', () => this.backend.delete(id, options));
    if (this.shred && isShreddable(id)) await storage('destroy an object key', () => this.shred!.destroy(id));
  }

  names(namespace: string): AsyncIterable<string> {
    assertNamespace(namespace);
    return this.backend.names(namespace);
  }

  async quarantine(id: string): Promise<string> {
    assertId(id);
    const to = quarantineId(id);
    await storage('quarantine an object', () => this.backend.move(id, to));
    this.logger.warn({ objectId: id, quarantinedAs: to, event: 'object_quarantined' }, 'damaged object moved to quarantine');
    return to;
  }

  /** Re-wraps every data key under the active master key; returns how many objects changed. */
  /**
   * Re-wraps every data key under the active master key (and every key store entry), and moves the
   * case objects still in format 1 to their own key (format 2); returns how many objects and
   * entries changed.
   */
  rewrap(): Promise<number> {
    return rewrapObjects(this.backend, this.src, this.logger);
  }

  /**
   * Crypto-shredding: deletes the object and destroys its own key, after which no copy of a format 2
   * object decrypts. Idempotent. Returns whether the object was in format 2 (false: format 1, whose
   * older copies the master key still opens). Purges destroy the key first themselves, under a record
   * that lets a killed run finish (src/purge/remove.ts).
   */
  async shredObject(id: string): Promise<boolean> {
    assertId(id);
    const version = await this.formatOf(id);
    await this.delete(id);
    if (this.shred) await storage('destroy an object key', () => this.shred!.destroy(id));
    return version !== 1;
  }

  /** The object's format version, without unwrapping anything; undefined when it is not there. */
  async formatOf(id: string): Promise<number | undefined> {
    const reader = await storage('open an object', () => this.backend.openRead(id));
    if (!reader) return undefined;
    try {
      return (await reader.read(4, 1))[0];
    } finally {
      await reader.close();
    }
  }
}
