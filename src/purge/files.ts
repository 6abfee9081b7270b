import { ErrorCode, isCasedropError } from '../errors.js';
import { caseFilesNamespace } from '../jobs/ids.js';
import type { EncryptedStore } from '../store/store.js';
import type { CaseFile } from './types.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Every readable file of a case in the live store and the archive. A file whose key is already
 * destroyed (a removal in progress) is left out: its pending record finishes it.
 */
export async function caseFiles(stores: { live: EncryptedStore; archive: EncryptedStore }, caseNumber: string): Promise<CaseFile[]> {
  const found: CaseFile[] = [];
  for (const location of ['live', 'archive'] as const) {
    const store = stores[location];
    for (const id of await store.list(`${caseFilesNamespace(caseNumber)}/`)) {
      const file = await describe(store, id, location);
      if (file) found.push(file);
    }
  }
  return found.sort((a, b) => (a.receivedAt ?? '').localeCompare(b.receivedAt ?? '') || a.id.localeCompare(b.id));
}

async function describe(store: EncryptedStore, id: string, location: CaseFile['location']): Promise<CaseFile | undefined> {
  try {
    const info = await store.head(id);
    const m = info.meta;
    const parts = Array.isArray(m.parts) ? m.parts.map(String) : undefined;
    return {
      id,
      location,
      storedName: str(m.storedName),
      originalName: str(m.originalName),
      // a manifest's own content is empty: the file is its parts
      size: parts ? Number(m.size) : info.size,
      sha256: parts ? str(m.sha256) : info.sha256,
      ...(parts ? { parts } : {}),
      ...(str(m.spoolId) ? { spoolId: str(m.spoolId) } : {}),
      ...(str(m.receivedAt) ? { receivedAt: str(m.receivedAt) } : {}),
      format: (await store.formatOf(id)) ?? 1,
    };
  } catch (err) {
    if (isCasedropError(err, ErrorCode.KeyDestroyed) || isCasedropError(err, ErrorCode.ObjectNotFound)) return undefined;
    throw err;
  }
}
