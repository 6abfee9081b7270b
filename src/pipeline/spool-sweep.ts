import type { Queue } from 'bullmq';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/types.js';
import { abandonedId, outcomeId, spoolObjectId } from '../jobs/ids.js';

/**
 * The SMTP door writes the spool object, then adds the job, then answers 250. A door that dies
 * between the first two leaves a spool object no job points at; its client got no 250, so its MTA
 * sends the message again and nothing is lost, but the orphan would sit in the spool for ever.
 * An orphan is a spool object with neither a job (waiting, active, failed …) nor an outcome that
 * is older than any door takes to add a job (seconds; the default age is minutes).
 */
export interface SweepDeps {
  store: ObjectStore;
  intake: Pick<Queue, 'getJob'>;
  logger: Logger;
  minAgeMs: number;
  now?: () => number;
}

export async function sweepOrphanSpool(deps: SweepDeps): Promise<string[]> {
  const now = deps.now?.() ?? Date.now();
  const removed: string[] = [];
  for (const id of await deps.store.list('spool/')) {
    const spoolId = id.slice('spool/'.length);
    if (!(await isOrphan(spoolId, now, deps))) continue;
    await deps.store.delete(spoolObjectId(spoolId)).catch(() => undefined);
    deps.logger.warn({ spoolId, event: 'spool_orphan_removed' }, 'removed a spool object that no job points at (its door died before queueing it; the client got no 250)');
    removed.push(spoolId);
  }
  await sweepAbandonedMarkers(deps, now);
  return removed;
}

/** Markers of messages a door gave up on matter only until a late job could still arrive (seconds). */
async function sweepAbandonedMarkers(deps: SweepDeps, now: number): Promise<void> {
  for (const id of await deps.store.list('abandoned/')) {
    const info = await deps.store.head(id).catch(() => undefined);
    if (info && now - Date.parse(info.createdAt) >= deps.minAgeMs) await deps.store.delete(abandonedId(id.slice('abandoned/'.length))).catch(() => undefined);
  }
}

async function isOrphan(spoolId: string, now: number, deps: SweepDeps): Promise<boolean> {
  const info = await deps.store.head(spoolObjectId(spoolId)).catch(() => undefined);
  if (!info || now - Date.parse(info.createdAt) < deps.minAgeMs) return false;
  if (await deps.intake.getJob(spoolId)) return false;
  return !(await deps.store.exists(outcomeId(spoolId)));
}
