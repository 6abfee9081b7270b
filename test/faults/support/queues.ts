import { queueCounts } from '../../../bench/lib/casedrop.mjs';

/**
 * The pipeline's queues, in the order jobs flow: once intake is empty no notify job can appear, and so
 * on. An intake job adds its outbound job itself; notify jobs come from recovery only.
 */
export const QUEUES = ['intake', 'notify', 'outbound'] as const;

export interface Queues {
  redisPort: number;
  prefix: string;
}

/** True once nothing is waiting, delayed or active in any queue of the pipeline. */
export async function drained(q: Queues): Promise<boolean> {
  for (const name of QUEUES) if ((await queueCounts(q.redisPort, q.prefix, name)).pending > 0) return false;
  return true;
}

/** Dead letters per queue, in QUEUES order: [0, 0, 0] is the pass. */
export async function deadLetters(q: Queues): Promise<number[]> {
  return Promise.all(QUEUES.map(async (name) => (await queueCounts(q.redisPort, q.prefix, name)).failed));
}

/**
 * The queues against the number of 250s, after the drain. A completed intake job beyond the 250s
 * can only be a ghost: an add that reached Redis after its door had answered 451 and removed the
 * message, dropped by the worker without outcome or reply. The intake job decides the replies itself
 * (no notify job per message); a notify job is recovery's, for an outcome it found without any job,
 * so there are never more of them than messages.
 */
export async function queueProblems(q: Queues, accepted: number): Promise<string[]> {
  const problems: string[] = [];
  const failed = await deadLetters(q);
  QUEUES.forEach((name, i) => failed[i]! > 0 && problems.push(`${failed[i]} ${name} jobs dead-lettered`));
  const intake = await queueCounts(q.redisPort, q.prefix, 'intake');
  if (intake.completed < accepted) problems.push(`${intake.completed} intake jobs completed for ${accepted} messages answered 250`);
  const notify = await queueCounts(q.redisPort, q.prefix, 'notify');
  if (notify.completed > accepted) problems.push(`${notify.completed} notify jobs completed for ${accepted} messages answered 250`);
  return problems;
}
