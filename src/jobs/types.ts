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
/** `digest`: a sender's combined replies; `notice-digest`: an engineer's combined notice of a case */
/** `postmaster`: a message to postmaster@, forwarded unchanged to the operator (its spool id is the job id) */
/** `upload-notice`: the engineer's notice of the uploads to one case in one window (src/notify/upload-notice.ts) */
export type MailKind = SenderReplyKind | 'engineer' | 'digest' | 'notice-digest' | 'postmaster' | 'upload-notice';

/** Mail combined over a slot of time: the outcomes waiting in a batch (src/notify/batch.ts). */
export interface BatchSlot {
  /** `upload`: files uploaded to a case (members are file ids, not spool ids) */
  kind: 'sender' | 'case' | 'upload';
  /** the sender's address (lower case, no +tag) or the case number */
  subject: string;
  /** epoch ms: the slot's end, when its job runs */
  until: number;
}

/** The notify stage's own queues: each job names the outcome (by spool id) and what to do with it. */
export interface OutboundJobData {
  /** a batch job: the spool id of the outcome that opened the slot (an upload notice: the file id) */
  spoolId: string;
  kind: MailKind;
  /** engineer mail (or a sender reply that carries the notice): what the sender was told (e.g. `dsn`, `suppressed: rate-limit`) */
  senderReply?: string;
  /**
   * receipt or dsn only: this job also sends the engineer notice (id `<spool id>-engineer` in
   * `planned`), first, so one job per message carries both mails
   */
  notice?: boolean;
  /** every outbound job id of this outcome: the last one sent settles the outcome (src/notify/sent.ts) */
  planned?: string[];
  /** digest, notice-digest and upload-notice only: which batch and slot to send */
  batch?: BatchSlot;
}

export type WebhookJobData = {
  /** index into config.webhookUrls: the URL itself may carry credentials, so it stays out of Redis */
  urlIndex: number;
} & (
  | { spoolId: string }
  /** an upload event (upload.completed / upload.rejected / upload.expired), stored at uploadEventObjectId */
  | { uploadEventId: string }
);

export type { Outcome, OutcomeKind, RefusedFile, SpoolMeta, StoredFile } from './records.js';
