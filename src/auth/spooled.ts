import type { ObjectStore } from '../store/types.js';
import { checkSender, type CheckOptions } from './check.js';
import type { SenderAuth } from './types.js';

/**
 * The intake worker's sender check: the spooled message streamed once more through mailauth
 * (decrypting is cheap next to DKIM's canonicalization; parsing needs its own pass anyway). The
 * door's Received header on top stays: DKIM picks signed header instances from the bottom up, so a
 * header added above them changes nothing. A store error is thrown (the job retries).
 */
export interface SpooledEnvelope {
  clientAddress: string;
  heloName?: string;
  mailFrom: string;
}

export async function checkSpooled(store: ObjectStore, objectId: string, env: SpooledEnvelope, o: CheckOptions): Promise<SenderAuth> {
  const stream = await store.get(objectId);
  try {
    return await checkSender(stream, env, o);
  } finally {
    stream.destroy();
  }
}
