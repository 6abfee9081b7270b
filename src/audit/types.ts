/**
 * Events that touch a case's files. `token-created`/`token-revoked` and `key-added`/`key-removed`
 * (SSH keys) come from the upload channels;
 * every other stage appends through the same `AuditSink`.
 */
export const auditTypes = [
  'stored',
  'refused',
  'downloaded',
  'token-created',
  'token-revoked',
  'key-added',
  'key-removed',
  'purged',
  'archived',
  'retention-deleted',
  'hold-on',
  'hold-off',
] as const;
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
  /** resolves once the event is durably in the case's chain (or already was, by `eventId`) */
  append(caseNumber: string, event: AuditEvent): Promise<void>;
  /** several events, in order, in one write where possible */
  appendMany?(caseNumber: string, events: readonly AuditEvent[]): Promise<void>;
}

export const GENESIS = '0'.repeat(64);
