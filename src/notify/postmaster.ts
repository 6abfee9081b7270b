import { isCasedropError, ErrorCode } from '../errors.js';
import { spoolObjectId } from '../jobs/ids.js';
import type { Logger } from '../log.js';
import { repliesSent } from '../metrics.js';
import type { ObjectStore } from '../store/types.js';
import type { Deliverer } from './deliver.js';
import { alreadySent, markSent } from './sent.js';

/** Where postmaster mail goes: the relay to this address, or (no address) the outbox. */
export interface PostmasterRoute {
  deliverer: Deliverer;
  to?: string;
}

/**
 * Forwards a postmaster message (src/smtp/postmaster.ts) unchanged: the decrypted spool object
 * as the door wrote it, Received header included. The null sender, so a bounce of the forward can
 * never loop back into the door. Sent once (the sent marker), then the spool object goes.
 */
export async function forwardPostmaster(jobId: string, spoolId: string, store: ObjectStore, route: PostmasterRoute, logger: Logger): Promise<void> {
  if (!(await alreadySent(store, jobId))) {
    const raw = await readSpool(store, spoolId);
    if (raw === undefined) {
      // a ghost: an add that landed after the door had given up and removed the spool object
      logger.info({ event: 'postmaster_ghost' }, 'postmaster job without its spool object: nothing to forward');
      return;
    }
    const result = await route.deliverer.deliver(jobId, raw, { from: false, to: [route.to ?? 'postmaster'] });
    await markSent(store, jobId, 'sent');
    repliesSent.inc({ kind: 'postmaster', result: 'sent' });
    logger.info({ event: 'postmaster_forwarded', bytes: raw.length, result }, 'postmaster message forwarded to the operator');
  }
  await store.delete(spoolObjectId(spoolId)).catch((err: unknown) => {
    if (!isCasedropError(err, ErrorCode.ObjectNotFound)) throw err;
  });
}

async function readSpool(store: ObjectStore, spoolId: string): Promise<Buffer | undefined> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(spoolObjectId(spoolId))) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (err) {
    if (isCasedropError(err, ErrorCode.ObjectNotFound)) return undefined;
    throw err;
  }
}
