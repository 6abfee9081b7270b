import { CasedropError, ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import type { BlobBackend } from './backend.js';
import { wrapDataKey } from './crypto.js';
import { encodeHeader, FORMAT_VERSION, SHREDDABLE_VERSION } from './format.js';
import { isShreddable, wrappingKeyFor, type KeySource } from './key-source.js';
import { openObject, type OpenedObject } from './reader.js';
import { storage } from './storage-errors.js';

const COPY_BYTES = 1 << 20;

/**
 * Key rotation: for each object not under the active master key, writes a new blob whose wrap
 * section holds the same data key wrapped under the active key, followed by the old blob's
 * salt-bound meta, chunks and trailer copied byte for byte (nothing is re-encrypted). The new blob
 * replaces the old one atomically, and only if the old one was not replaced or deleted meanwhile.
 * Keeps going past objects it cannot rewrap, then fails naming how many.
 */
export async function rewrapObjects(backend: BlobBackend, keys: KeySource, logger: Logger): Promise<number> {
  let rewrapped = 0;
  const failed: CasedropError[] = [];
  for (const id of await storage('list objects', () => backend.list(''))) {
    try {
      if (await rewrapOne(backend, keys, id)) rewrapped++;
    } catch (err) {
      if (isCasedropError(err, ErrorCode.ObjectNotFound)) continue;
      const typed = isCasedropError(err) ? err : new CasedropError(ErrorCode.StorageFailed, String(err), { cause: err });
      logger.warn({ objectId: id, code: typed.code, err: typed.message }, 'object not rewrapped');
      failed.push(typed);
    }
  }
  if (keys.shred) rewrapped += await keys.shred.rewrap();
  logger.info({ rewrapped, failed: failed.length, activeKeyId: keys.keys.active.id }, 'rewrap finished');
  const first = failed[0];
  if (first) throw new CasedropError(first.code, `rewrapped ${rewrapped} objects; ${failed.length} could not be rewrapped, first: ${first.message}`);
  return rewrapped;
}

/** Format 2 objects need nothing (their key store entry is rewrapped); format 1 case objects migrate to format 2. */
async function rewrapOne(backend: BlobBackend, keys: KeySource, id: string): Promise<boolean> {
  const opened = await openObject(backend, keys, id);
  try {
    const { wrap, salt, version } = opened.header;
    if (version === SHREDDABLE_VERSION) return false;
    const migrate = keys.shred !== undefined && isShreddable(id);
    const active = keys.keys.active;
    if (!migrate && wrap.keyId === active.id && wrap.check.equals(active.check)) return false;
    const target = migrate ? await wrappingKeyFor(keys, id) : { version: FORMAT_VERSION, wrapKey: active };
    const header = encodeHeader({ ...opened.header, version: target.version, wrap: wrapDataKey(opened.dataKey, target.wrapKey, salt, id) });
    return await replaceHeader(backend, opened, header);
  } finally {
    await opened.reader.close();
  }
}

async function replaceHeader(backend: BlobBackend, opened: OpenedObject, header: Buffer): Promise<boolean> {
  const { reader } = opened;
  const writer = await storage('create a temp object', () => backend.createWriteTemp());
  try {
    await storage('write an object', () => writer.write([header]));
    for (let at = opened.headerBytes; at < reader.size; at += COPY_BYTES) {
      const part = await storage('read an object', () => reader.read(at, Math.min(COPY_BYTES, reader.size - at)));
      await storage('write an object', () => writer.write([part]));
    }
    return await storage('commit an object', () => writer.commit(opened.id, { ifVersion: reader.version }));
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}
