import type { ReasonCode } from '../reasons/table.js';

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
}

export type WebhookJobData = {
  /** index into config.webhookUrls: the URL itself may carry credentials, so it stays out of Redis */
  urlIndex: number;
} & (
  | { spoolId: string }
  /** an upload event (upload.completed / upload.rejected / upload.expired), stored at uploadEventObjectId */
  | { uploadEventId: string }
);

/** Metadata the SMTP door writes with each spooled message (encrypted with it). */
export interface SpoolMeta {
  spoolId: string;
  caseNumber: string;
  receivedAt: string;
  mailFrom: string;
  rcptTo: string[];
  messageId?: string;
  subject?: string;
  clientAddress: string;
  heloName?: string;
  sessionId: string;
  /** Auto-Submitted / Precedence / null sender: replies to it are suppressed */
  automatic: boolean;
}

export interface StoredFile {
  id: string;
  originalName: string;
  storedName: string;
  size: number;
  sha256: string;
  format: string;
  cipher?: string;
}

export interface RefusedFile {
  originalName: string;
  size: number;
  format: string;
  reason: ReasonCode;
  advice: string;
}

export type OutcomeKind = 'stored' | 'partial' | 'refused' | 'no-attachment' | 'case-closed';

/** One per spooled message, stored at `outcomes/<spoolId>`; drives replies and notices. */
export interface Outcome {
  spoolId: string;
  caseNumber: string;
  kind: OutcomeKind;
  receivedAt: string;
  processedAt: string;
  mailFrom: string;
  rcptTo: string[];
  from?: string;
  subject?: string;
  messageId?: string;
  automatic: boolean;
  stored: StoredFile[];
  refused: RefusedFile[];
  noteId?: string;
  /** the original header block, for the DSN's text/rfc822-headers part */
  originalHeaders: string;
}
