import { uploadSegmentsNamespace } from '../jobs/ids.js';
import type { ObjectStore, PutResult } from '../store/types.js';

/**
 * Appendable encrypted staging for uploads. The store's objects are sealed once (256 KiB AES-GCM
 * chunks bound to the object id, and an authenticated trailer), so an upload is a series of
 * complete objects instead: every request that appends writes one segment
 * `uploads/<uploadId>/<offset>`, and a request cut off commits what arrived as a shorter segment.
 * The upload's offset is where its last segment ends: the store, not a counter, is the truth.
 * When the upload completes the segments become the parts of the case file (src/intake/parts.ts),
 * with no copy.
 */
export const segmentName = (offset: number): string => String(offset).padStart(16, '0');

export async function segments(store: ObjectStore, uploadId: string): Promise<string[]> {
  return store.list(`${uploadSegmentsNamespace(uploadId)}/`);
}

export async function stagedOffset(store: ObjectStore, uploadId: string): Promise<number> {
  const ids = await segments(store, uploadId);
  const last = ids.at(-1);
  if (last === undefined) return 0;
  return Number(last.slice(last.lastIndexOf('/') + 1)) + (await store.head(last)).size;
}

export function appendSegment(
  store: ObjectStore,
  uploadId: string,
  offset: number,
  body: AsyncIterable<Uint8Array>,
  meta: Record<string, unknown>,
): Promise<PutResult> {
  return store.put(uploadSegmentsNamespace(uploadId), body, { kind: 'upload-segment', offset, ...meta }, { name: segmentName(offset) });
}

export async function dropStaging(store: ObjectStore, uploadId: string): Promise<void> {
  for (const id of await segments(store, uploadId)) await store.delete(id);
}
