import type { SenderAuth } from '../auth/types.js';
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
/** `digest`: a sender's combined replies; `notice-digest`: an engineer's combined notice of a case */
export type MailKind = SenderReplyKind | 'engineer' | 'digest' | 'notice-digest';

/** Mail combined over a slot of time: the outcomes waiting in a batch (src/notify/batch.ts). */
export interface BatchSlot {
  kind: 'sender' | 'case';
  /** the sender's address (lower case, no +tag) or the case number */
  subject: string;
  /** epoch ms: the slot's end, when its job runs */
  until: number;
}

/** The notify stage's own queues: each job names the outcome (by spool id) and what to do with it. */
export interface OutboundJobData {
  /** a batch job: the spool id of the outcome that opened the slot */
  spoolId: string;
  kind: MailKind;
  /** engineer mail only: what the sender was told (e.g. `dsn`, `suppressed: rate-limit`) */
  senderReply?: string;
  /** digest and notice-digest only: which batch and slot to send */
  batch?: BatchSlot;
}

export interface WebhookJobData {
  spoolId: string;
  /** index into config.webhookUrls: the URL itself may carry credentials, so it stays out of Redis */
  urlIndex: number;
}

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
  /** SPF, DKIM, DMARC and ARC as the intake worker found them; absent in outcomes of older versions */
  auth?: SenderAuth;
}
