/** The audit trail other stages (intake, uploads, purge, retention) append to. */
export { AuditLog, auditNamespace, formatEntry } from './log.js';
export type { AuditEntry, AuditEvent, AuditFile, AuditSink, AuditType } from './types.js';
