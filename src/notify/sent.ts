import { Readable } from 'node:stream';
import { repliesNamespace, repliesSettledId, replySentId } from '../jobs/ids.js';
import type { ObjectStore } from '../store/types.js';

/**
 * "This mail went out" kept in the store next to the outcome, not in BullMQ: a completed job id
 * protects against a second send only while BullMQ keeps it (`removeOnComplete`) and only while
 * Redis does. An outbound job checks its marker before sending and writes it right after, so a
 * replayed or re-queued job, however late, sends nothing; the one window left is a crash between
 * the relay's 250 and the marker's fsync (at-least-once, as in every MTA).
 */
export async function alreadySent(store: ObjectStore, outboundJobId: string, plannedFor?: string): Promise<boolean> {
  // the last planned mail of an outcome is recorded by the settled marker alone (markSentAndSettle)
  if (plannedFor !== undefined && (await isSettled(store, plannedFor))) return true;
  return store.exists(replySentId(outboundJobId));
}

/**
 * After one planned mail of an outcome went out. When every other planned mail is marked already,
 * this one is the last: the outcome's settled marker alone records it (it says every planned mail
 * is out), one fsynced object fewer per message. Otherwise its own marker, then settle if the
 * others finished meanwhile.
 */
export async function markSentAndSettle(store: ObjectStore, outboundJobId: string, spoolId: string, planned: readonly string[], result: string): Promise<void> {
  const others = planned.filter((id) => id !== outboundJobId);
  if (await allMarked(store, others)) {
    await writeSettled(store, spoolId, planned.includes(outboundJobId) ? planned : [...planned, outboundJobId]);
    return;
  }
  await markSent(store, outboundJobId, result);
  await settleIfDone(store, spoolId, planned);
}

async function allMarked(store: ObjectStore, ids: readonly string[]): Promise<boolean> {
  for (const id of ids) if (!(await store.exists(replySentId(id)))) return false;
  return true;
}

async function writeSettled(store: ObjectStore, spoolId: string, planned: readonly string[]): Promise<void> {
  await store.put(repliesNamespace, Readable.from([]), { kind: 'replies-settled', spoolId, replies: planned }, { name: spoolId });
}

export async function markSent(store: ObjectStore, outboundJobId: string, result: string): Promise<void> {
  await store.put(
    repliesNamespace,
    Readable.from([]),
    { kind: 'reply-sent', job: outboundJobId, result, at: new Date().toISOString() },
    { name: outboundJobId },
  );
}

export function isSettled(store: ObjectStore, spoolId: string): Promise<boolean> {
  return store.exists(repliesSettledId(spoolId));
}

/**
 * Once every mail planned for an outcome is marked, the outcome is settled and recovery scans skip
 * it at the cost of one stat. Two jobs finishing at once may both miss the other's marker; the
 * outcome then stays unsettled until a recovery scan re-runs its notify job, which settles it.
 */
export async function settleIfDone(store: ObjectStore, spoolId: string, planned: readonly string[]): Promise<boolean> {
  if (!(await allMarked(store, planned))) return false;
  await writeSettled(store, spoolId, planned);
  return true;
}
