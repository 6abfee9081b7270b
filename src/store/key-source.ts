import { CasedropError, ErrorCode } from '../errors.js';
import type { KeyRing, MasterKey } from '../keys/ring.js';
import type { ShredKey, ShredKeyStore } from '../keys/shred-store.js';
import { unwrapDataKey } from './crypto.js';
import { FORMAT_VERSION, SHRED_KEY_ID, SHREDDABLE_VERSION, type ObjectHeader } from './format.js';

/**
 * Which key wraps an object's data key. Objects of a case (ids under `cases/`) and spooled messages
 * (`spool/`, which hold the attachments until the worker stores them) and upload segments (`uploads/`) get their own key from the key
 * store (format 2), so deleting them shreds every copy, including one in a backup taken while the
 * message sat in the spool. The rest (outcomes, audit, markers) hold no file content and stay under the
 * master key (format 1); the audit trail must outlive a purge.
 */
export interface KeySource {
  keys: KeyRing;
  shred?: ShredKeyStore;
}

/** `uploads/`: the segments of an upload, which a finished upload's manifest in `cases/` keeps naming. */
export const isShreddable = (id: string): boolean => id.startsWith('cases/') || id.startsWith('spool/') || id.startsWith('uploads/');

/** The key that wraps a new object's data key, as a MasterKey-shaped value, and the format version. */
export async function wrappingKeyFor(src: KeySource, id: string): Promise<{ version: number; wrapKey: MasterKey }> {
  if (!src.shred || !isShreddable(id)) return { version: FORMAT_VERSION, wrapKey: src.keys.active };
  return { version: SHREDDABLE_VERSION, wrapKey: asWrapKey(await src.shred.obtain(id)) };
}

export async function unwrapObjectKey(src: KeySource, header: ObjectHeader, id: string): Promise<Buffer> {
  if (header.version !== SHREDDABLE_VERSION) return unwrapDataKey(header.wrap, src.keys, header.salt, id);
  if (!src.shred) throw new CasedropError(ErrorCode.KeyUnknown, `object ${id} is wrapped under its own key, and this store was opened without a key store`);
  const key = asWrapKey(await src.shred.get(id));
  return unwrapDataKey(header.wrap, { active: key, ids: [key.id], get: (k) => (k === key.id ? key : undefined) }, header.salt, id);
}

export function asWrapKey(k: ShredKey): MasterKey {
  return { id: SHRED_KEY_ID, key: k.key, check: k.check };
}
