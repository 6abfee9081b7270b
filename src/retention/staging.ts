import type { Queue } from 'bullmq';
import { abandonedId, spoolObjectId } from '../jobs/ids.js';
import type { EncryptedStore } from '../store/store.js';
import type { ObjectStore } from '../store/types.js';

/**
 * Staging: things kept only until they are processed. Each kind is a source retention asks for its
 * items and tells to remove the stale ones. The spool is one; the upload channels register theirs
 * (partial uploads) with `stagingSources.push(...)` or by passing them to `runRetention`.
 */
export interface StagingItem {
  source: string;
  id: string;
  createdAt: string;
  caseNumber?: string;
}

export interface StagingSource {
  name: string;
  /** items that may be removed once stale: never one a live job still needs */
  list(): Promise<StagingItem[]>;
  /** idempotent */
  remove(item: StagingItem): Promise<void>;
}

/**
 * Spool objects whose job was dead-lettered and never retried (`casedrop jobs retry` had the staging
 * period to bring them back), and the markers of abandoned messages. A spool object with no job at
 * all is never staging: its sender may have had a 250, and recovery (src/pipeline/recovery.ts)
 * queues it again, so only Redis's memory of a failure lets it go.
 */
export function spoolStaging(store: ObjectStore, intake: Pick<Queue, 'getJob'>): StagingSource {
  return {
    name: 'spool',
    async list() {
      const items: StagingItem[] = [];
      for (const id of [...(await store.list('spool/')), ...(await store.list('abandoned/'))]) {
        const info = await store.head(id).catch(() => undefined);
        if (!info) continue;
        const spoolId = id.slice(id.indexOf('/') + 1);
        if (id.startsWith('spool/')) {
          const job = await intake.getJob(spoolId);
          if (!job || (await job.getState()) !== 'failed') continue;
        }
        const caseNumber = typeof info.meta.caseNumber === 'string' ? info.meta.caseNumber : undefined;
        items.push({ source: 'spool', id, createdAt: info.createdAt, ...(caseNumber ? { caseNumber } : {}) });
      }
      return items;
    },
    async remove(item) {
      const spoolId = item.id.slice(item.id.indexOf('/') + 1);
      await store.delete(item.id.startsWith('spool/') ? spoolObjectId(spoolId) : abandonedId(spoolId));
    },
  };
}

/**
 * Key store entries whose object is gone: a process killed between deleting an object and destroying
 * its key, or a write that failed after its key was made. Harmless, but a key should not outlive its
 * object by more than the staging period.
 */
export function orphanKeys(stores: { live: EncryptedStore; archive: EncryptedStore }): StagingSource {
  const where = (item: StagingItem) => (item.id.startsWith('archive:') ? { store: stores.archive, id: item.id.slice(8) } : { store: stores.live, id: item.id });
  return {
    name: 'orphan-key',
    async list() {
      const items: StagingItem[] = [];
      for (const [prefix, store] of [
        ['', stores.live],
        ['archive:', stores.archive],
      ] as const) {
        for (const id of (await store.shred?.list()) ?? []) {
          if (await store.exists(id)) continue;
          const at = await store.shred?.writtenAt(id);
          if (at) items.push({ source: 'orphan-key', id: `${prefix}${id}`, createdAt: at.toISOString() });
        }
      }
      return items;
    },
    async remove(item) {
      const { store, id } = where(item);
      // the object may have been written meanwhile (a retried put reuses the key): keep the key then
      if (!(await store.exists(id))) await store.shred?.destroy(id);
    },
  };
}
