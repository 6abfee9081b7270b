/**
 * Job data of the notify stage's own queues. Ids only: each job names the outcome (by spool id) and
 * what to do with it; the mail or payload is built from the stored outcome when the job runs.
 */
export type SenderReplyKind = 'dsn' | 'receipt';
export type MailKind = SenderReplyKind | 'engineer';

export interface OutboundJobData {
  spoolId: string;
  kind: MailKind;
  /** engineer mail only: what the sender was told (e.g. `dsn`, `suppressed: rate-limit`) */
  senderReply?: string;
  /** every outbound job id of this outcome: the last one sent settles the outcome (src/notify/sent.ts) */
  planned?: string[];
}

export interface WebhookJobData {
  spoolId: string;
  /** index into config.webhookUrls: the URL itself may carry credentials, so it stays out of Redis */
  urlIndex: number;
}

/**
 * Fixed job ids per outcome: adding the same job again (a retried notify job) is a no-op in BullMQ,
 * so each reply, notice and webhook goes out once. '-' rather than ':' because BullMQ refuses custom
 * ids with one ':' (`Custom Id cannot contain :`); spool ids never contain '-', so the ids stay
 * unambiguous, and they double as outbox file names.
 */
export const outboundJobId = {
  sender: (spoolId: string): string => `${spoolId}-sender`,
  engineer: (spoolId: string): string => `${spoolId}-engineer`,
};
export const webhookJobId = (spoolId: string, n: number): string => `${spoolId}-webhook-${n}`;

/** The spool id from an outcome id `outcomes/<spoolId>`. */
export function spoolIdOf(outcomeId: string): string {
  const m = /^outcomes\/([A-Za-z0-9_-]+)$/.exec(outcomeId);
  if (!m?.[1]) throw new Error(`not an outcome id: ${JSON.stringify(outcomeId)}`);
  return m[1];
}
