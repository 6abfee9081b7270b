import { Readable } from 'node:stream';
import type { Queue } from 'bullmq';
import type { Config } from '../config/schema.js';
import { newId } from '../ids.js';
import { uploadEventObjectId, webhookJobId } from '../jobs/ids.js';
import type { WebhookJobData } from '../jobs/types.js';
import type { ObjectStore } from '../store/types.js';

/**
 * Webhook events of the upload drive: `upload.completed` (the receipt), `upload.rejected` (nothing
 * kept, and why) and `upload.expired` (an unfinished upload removed). Like a message's outcome,
 * the payload is written to the encrypted store first and the jobs carry only its id; the notify
 * stage's webhook worker signs and posts it with the same retries.
 */
export type UploadEvent =
  | { event: 'upload.completed'; case: string; receipt: Record<string, unknown>; time: string }
  | { event: 'upload.rejected'; case: string; name: string; channel: string; tokenLabel: string; reason: string; message: string; time: string }
  | { event: 'upload.expired'; case: string; name: string; tokenLabel: string; offset: number; length: number; time: string };

export type EventSink = (e: UploadEvent) => Promise<void>;

export function uploadEventSink(
  config: Pick<Config, 'webhookUrls' | 'webhookSecret'>,
  store: ObjectStore,
  queue: Pick<Queue<WebhookJobData>, 'add'>,
): EventSink {
  return async (e) => {
    if (config.webhookUrls.length === 0 || config.webhookSecret === undefined) return;
    const eventId = newId();
    await store.put(
      'upload-events',
      Readable.from([Buffer.from(JSON.stringify(e))]),
      { kind: 'upload-event', event: e.event, caseNumber: e.case },
      { name: eventId },
    );
    await Promise.all(
      config.webhookUrls.map((_u, urlIndex) => queue.add('webhook', { uploadEventId: eventId, urlIndex }, { jobId: webhookJobId(eventId, urlIndex) })),
    );
  };
}

export async function readUploadEvent(store: ObjectStore, eventId: string): Promise<UploadEvent> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(uploadEventObjectId(eventId))) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as UploadEvent;
}
