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
export async function readOutcome(store: ObjectStore, outcomeId: string, log?: Logger, cache?: OutcomeCache): Promise<Outcome> {
  const known = cache?.get(outcomeId);
  if (known) return known;
  const outcome = await readStoredOutcome(store, outcomeId, log);
  cache?.remember(outcomeId, outcome);
  return outcome;
}

/**
 * Outcomes are written once and never changed (a retried intake finds its outcome and keeps it), so
 * one process may keep the few it just wrote or read: the notify step and its two mails then decrypt
 * and parse an outcome once, or not at all when this process's intake wrote it. Bounded in count and
 * age; the store stays the truth for everything older. Readers share the object: they never change it.
 */
export class OutcomeCache {
  private readonly entries = new Map<string, { outcome: Outcome; at: number }>();

  constructor(
    private readonly max = 512,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(outcomeId: string): Outcome | undefined {
    const e = this.entries.get(outcomeId);
    if (!e) return undefined;
    if (this.now() - e.at > this.ttlMs) {
      this.entries.delete(outcomeId);
      return undefined;
    }
    return e.outcome;
  }

  remember(outcomeId: string, outcome: Outcome): void {
    this.entries.delete(outcomeId);
    this.entries.set(outcomeId, { outcome, at: this.now() });
    // a Map iterates in insertion order: the first key is the oldest
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  /** An outcome exactly as a later read from the store would return it (the written JSON, parsed by the schema). */
  rememberWritten(outcomeId: string, json: string): void {
    this.remember(outcomeId, parseOutcome(json, outcomeId));
  }
}

async function readStoredOutcome(store: ObjectStore, outcomeId: string, log?: Logger): Promise<Outcome> {
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
