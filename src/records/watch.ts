import type { Logger } from '../log.js';
import type { DurableRecords } from './durable.js';

/**
 * How often every process asks Redis whether it is still the server the record index was built in.
 * Two commands; between a Redis reset and the next check, look-ups that miss the index still find
 * their record in the store (see Collection.get), so the interval bounds only how long a record
 * changed during Redis's last lost second can show its older revision.
 */
export const INDEX_CHECK_MS = 5_000;

/** Checks now and every `intervalMs`; `onRebuilt` runs after a rebuild (workers re-queue from the spool then). */
export function watchRecordIndex(
  records: DurableRecords,
  logger: Logger,
  onRebuilt: () => void = () => undefined,
  intervalMs = INDEX_CHECK_MS,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const check = () => {
    running = records.ensureIndex().then(
      (rebuilt) => rebuilt && onRebuilt(),
      (err: unknown) => logger.warn({ err: (err as Error).message }, 'record index check failed (Redis unreachable?); retried'),
    );
  };
  check();
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
