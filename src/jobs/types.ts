/**
 * The job contract: what travels between stages, and the records they leave in the store for each
 * other. Job data holds ids only: message bodies, files and keys stay in the encrypted store.
 */
export const QueueName = {
  /** spooled message → worker (parse, verify, store) */
  intake: 'intake',
  /** outcome → replies to the sender, notice to the engineer, webhooks */
  notify: 'notify',
  /** one outgoing mail each */
  outbound: 'outbound',
  /** one webhook delivery each */
  webhook: 'webhook',
  /** the daily retention run (archive or delete closed cases, expire staging) */
  retention: 'retention',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export interface IntakeJobData {
  spoolId: string;
}

export interface NotifyJobData {
  outcomeId: string;
}

export type SenderReplyKind = 'dsn' | 'receipt';
export type MailKind = SenderReplyKind | 'engineer';

/** The notify stage's own queues: each job names the outcome (by spool id) and what to do with it. */
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

export type { Outcome, OutcomeKind, RefusedFile, SpoolMeta, StoredFile } from './records.js';
