/**
 * Names of the objects stages hand each other in the store, and the fixed job ids derived from them.
 * Every name follows from the spool id (and the case number), so a retried step rewrites the same
 * object or re-adds the same job instead of making a second one.
 */
export const caseFilesNamespace = (caseNumber: string): string => `cases/${caseNumber}/files`;
export const caseNotesNamespace = (caseNumber: string): string => `cases/${caseNumber}/notes`;
/** An upload's stored name and verdict, known only after its content was stored (src/intake/records.ts). */
export const caseVerdictsNamespace = (caseNumber: string): string => `cases/${caseNumber}/verdicts`;
/** The segments of one upload, `<offset, 16 digits>` each; they become the file's parts when it completes. */
export const uploadSegmentsNamespace = (uploadId: string): string => `uploads/${uploadId}`;
export const outcomeId = (spoolId: string): string => `outcomes/${spoolId}`;
/** The payload of one upload webhook event, written before its jobs are added. */
export const uploadEventObjectId = (eventId: string): string => `upload-events/${eventId}`;
/**
 * One admitted upload waiting for its engineer notice (the AdmittedFile as JSON): names are customer
 * data, so they wait in the encrypted store and the batch in Redis holds only file ids.
 */
export const uploadNoticesNamespace = 'upload-notices';
export const uploadNoticeEntryId = (fileId: string): string => `${uploadNoticesNamespace}/${fileId}`;
export const spoolObjectId = (spoolId: string): string => `spool/${spoolId}`;
/** Written by an SMTP door that answered 4xx after trying to queue the message (see Spool.abandon). */
export const abandonedId = (spoolId: string): string => `abandoned/${spoolId}`;
/**
 * Durable reply state, next to the outcome: `replies/<outbound job id>` once that mail went out,
 * `replies/<spoolId>` once every reply of the outcome did (or none was due). Recovery re-queues
 * the notify job of an outcome without the latter; the former stops a second send.
 */
export const repliesNamespace = 'replies';
export const replySentId = (outboundJobId: string): string => `replies/${outboundJobId}`;
export const repliesSettledId = (spoolId: string): string => `replies/${spoolId}`;
/** A case's audit trail, one object per entry; under the master key, outside `cases/`, so it outlives a purge. */
export const auditNamespace = (caseNumber: string): string => `audit/${caseNumber}`;
/** Removals (purge, retention delete) in progress, so a killed run can be finished. */
export const pendingRemovalNamespace = (caseNumber: string): string => `purges/${caseNumber}`;

/** The spool id from an outcome id `outcomes/<spoolId>`. */
export function spoolIdOf(outcomeId: string): string {
  const m = /^outcomes\/([A-Za-z0-9_-]+)$/.exec(outcomeId);
  if (!m?.[1]) throw new Error(`not an outcome id: ${JSON.stringify(outcomeId)}`);
  return m[1];
}

/**
 * Fixed job ids per outcome: adding the same job again (a retried notify step or intake job) is a no-op in BullMQ,
 * so each reply, notice and webhook goes out once. '-' rather than ':' because BullMQ refuses custom
 * ids with one ':' (`Custom Id cannot contain :`); spool ids never contain '-', so the ids stay
 * unambiguous, and they double as outbox file names.
 */
export const outboundJobId = {
  sender: (spoolId: string): string => `${spoolId}-sender`,
  engineer: (spoolId: string): string => `${spoolId}-engineer`,
};
export const webhookJobId = (spoolId: string, n: number): string => `${spoolId}-webhook-${n}`;
