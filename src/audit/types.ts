/**
 * Events that touch a case's files. `token-created`/`token-revoked` come from the upload channels;
 * every other stage appends through the same `AuditSink`.
 */
export const auditTypes = ['stored', 'refused', 'downloaded', 'token-created', 'token-revoked', 'purged', 'archived', 'retention-deleted', 'hold-on', 'hold-off'] as const;
export type AuditType = (typeof auditTypes)[number];

export interface AuditFile {
  storedName?: string;
  originalName?: string;
  id?: string;
  size?: number;
  sha256?: string;
}

export interface AuditEvent {
  type: AuditType;
  /** who did it: an operator, an engineer, a customer contact, the sender address or `casedrop` */
  actor: string;
  /** email, http, sftp, cli, retention … */
  channel?: string;
  file?: AuditFile;
  reason?: string;
  details?: Record<string, string | number | boolean>;
  /**
   * Makes the append idempotent: a retried job or a resumed purge appends its event once. Stable
   * per fact, e.g. `stored:<object id>`.
   */
  eventId?: string;
}

export interface AuditEntry extends AuditEvent {
  case: string;
  seq: number;
  time: string;
  /** hash of the previous entry (64 zeros for the first) */
  prev: string;
  /** SHA-256 of this entry's canonical JSON without `hash` */
  hash: string;
}

/** What other stages (intake, uploads, purge, retention) call. */
export interface AuditSink {
  append(caseNumber: string, event: AuditEvent): Promise<AuditEntry | undefined>;
  /** several events in order under one lock; optional for sinks that do not batch */
  appendMany?(caseNumber: string, events: readonly AuditEvent[]): Promise<(AuditEntry | undefined)[]>;
}

export const GENESIS = '0'.repeat(64);
