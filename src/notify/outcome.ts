import { buffer } from 'node:stream/consumers';
import { UnrecoverableError } from 'bullmq';
import { ErrorCode, isCasedropError } from '../errors.js';
import { outcomeSchema, recordProblem, type Outcome } from '../jobs/records.js';
import type { Logger } from '../log.js';
import { isDamaged, quarantineDamaged } from '../store/quarantine.js';
import type { ObjectStore } from '../store/types.js';

/**
 * The stored outcome a job refers to. Missing, corrupt or malformed will never get better, so those
 * fail the job for good (dead-letter list); a store error that may pass is thrown as is and retried.
 */
export async function readOutcome(store: ObjectStore, outcomeId: string, log?: Logger): Promise<Outcome> {
  let text: string;
  try {
    text = (await buffer(await store.get(outcomeId))).toString('utf8');
  } catch (err) {
    if (log && isDamaged(err)) throw await quarantineDamaged(store, outcomeId, err, log);
    if (isCasedropError(err, ErrorCode.ObjectNotFound) || isDamaged(err)) {
      throw new UnrecoverableError(`${outcomeId}: ${err.code}`);
    }
    throw err;
  }
  return parseOutcome(text, outcomeId);
}

function parseOutcome(text: string, outcomeId: string): Outcome {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UnrecoverableError(`${outcomeId}: not JSON`);
  }
  const parsed = outcomeSchema.safeParse(value);
  if (!parsed.success) throw new UnrecoverableError(`${outcomeId}: not an outcome (${recordProblem(parsed.error)})`);
  return parsed.data;
}
