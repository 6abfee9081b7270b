import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { ErrorCode, isCasedropError } from '../errors.js';
import type { AdmittedFile } from '../intake/types.js';
import { uploadNoticeEntryId, uploadNoticesNamespace } from '../jobs/ids.js';
import { createQueue } from '../jobs/queues.js';
import { QueueName, type BatchSlot, type OutboundJobData } from '../jobs/types.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/types.js';
import { batchJobId, redisBatches, type Batches } from './batch.js';

/**
 * The engineer hears of uploads as of mail, but combined: every file admitted from an upload
 * channel (HTTPS PUT, tus, SFTP, SCP, FTPS) joins its case's upload batch (src/notify/batch.ts,
 * kind `upload`), and one delayed outbound job per case and window — its id fixed by the slot, so
 * the second upload's add is a no-op — sends one notice listing them all when the window ends
 * (src/notify/upload-mail.ts builds it, src/notify/outbound.ts sends it exactly once).
 *
 * The batch in Redis holds file ids only; what the notice says of each file (a customer's name
 * among it) waits in the encrypted store at `upload-notices/<fileId>` and goes once the notice did.
 */
export type UploadNotice = (file: AdmittedFile) => Promise<void>;

interface Adder {
  add(name: string, data: OutboundJobData, opts: { jobId: string; delay: number }): Promise<unknown>;
}

export interface UploadNoticeDeps {
  store: ObjectStore;
  /** the upload batches, opened with the notice window as interval */
  batches: Pick<Batches, 'join'>;
  outbound: Adder;
  now?: () => number;
}

/** Idempotent by file id: a retried admission rewrites the same entry and joins with its first score. */
export function uploadNoticeQueuer(deps: UploadNoticeDeps): UploadNotice {
  return async (file) => {
    // mail has its own per-message notice (src/notify/notify.ts)
    if (file.channel === 'email') return;
    await deps.store.put(
      uploadNoticesNamespace,
      Readable.from([Buffer.from(JSON.stringify(file))]),
      { kind: 'upload-notice-entry', caseNumber: file.caseNumber },
      { name: file.fileId },
    );
    const slot = await deps.batches.join('upload', file.caseNumber, file.fileId);
    await addUploadNoticeJob(deps.outbound, slot, file.fileId, (deps.now ?? Date.now)());
  };
}

/** The job that sends a slot's notice, due at the slot's end. */
export async function addUploadNoticeJob(outbound: Adder, slot: BatchSlot, firstFileId: string, now: number): Promise<void> {
  await outbound.add(
    'upload-notice',
    { spoolId: firstFileId, kind: 'upload-notice', batch: slot },
    { jobId: batchJobId(slot), delay: Math.max(0, slot.until - now) },
  );
}

/** The notice hook as a door wires it: its own outbound queue handle on the door's connection. */
export function startUploadNotices(
  config: Pick<Config, 'redisPrefix' | 'jobAttempts' | 'jobBackoffMs' | 'uploadNoticeWindowSeconds'>,
  redis: Redis,
  store: ObjectStore,
): { notice: UploadNotice; close: () => Promise<void> } {
  const outbound = createQueue(config, QueueName.outbound, redis) as Queue<OutboundJobData>;
  const batches = redisBatches(redis, config.redisPrefix, config.uploadNoticeWindowSeconds * 1000);
  return { notice: uploadNoticeQueuer({ store, batches, outbound }), close: () => outbound.close() };
}

export interface UploadEntries {
  files: AdmittedFile[];
  /** members beyond the listing cap, or whose entry is gone */
  rest: number;
}

/** At most 50 files in full (under MAX_REPLY_BYTES with hostile 200-character names); the rest are counted. */
export const MAX_UPLOADS_LISTED = 50;

export async function readUploadEntries(store: ObjectStore, members: readonly string[], log: Logger): Promise<UploadEntries> {
  const files: AdmittedFile[] = [];
  let rest = Math.max(0, members.length - MAX_UPLOADS_LISTED);
  for (const fileId of members.slice(0, MAX_UPLOADS_LISTED)) {
    try {
      files.push(JSON.parse((await buffer(await store.get(uploadNoticeEntryId(fileId)))).toString('utf8')) as AdmittedFile);
    } catch (err) {
      // gone (its notice went out just before a crash, or the case was purged): counted, not listed
      if (!isCasedropError(err, ErrorCode.ObjectNotFound) && !(err instanceof SyntaxError)) throw err;
      log.warn({ fileId, err: (err as Error).message }, 'upload notice entry unreadable: counted, not listed');
      rest++;
    }
  }
  return { files, rest };
}

export async function dropUploadEntries(store: ObjectStore, members: readonly string[]): Promise<void> {
  for (const fileId of members) await store.delete(uploadNoticeEntryId(fileId));
}
