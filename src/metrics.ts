import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One metrics registry per process, with every series named here so operators find them in one
 * place. Stages import the series they feed; the HTTP stage serves the registry at /metrics.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'casedrop_' });

export const smtpProbes = new Counter({
  name: 'casedrop_smtp_probe_total',
  help: 'Case-number probing: "case does not exist" replies counted, held back (tarpit), and MAILs refused (blocked)',
  labelNames: ['action'] as const,
  registers: [registry],
});

export const smtpReplies = new Counter({
  name: 'casedrop_smtp_replies_total',
  help: 'SMTP replies to MAIL/RCPT/DATA by reason (accepted, no-case, too-big, …) and code',
  labelNames: ['reason', 'code'] as const,
  registers: [registry],
});

export const smtpAcceptLatency = new Histogram({
  name: 'casedrop_smtp_accept_seconds',
  help: 'Time from end of DATA to the 250 (spool fsync + queue add)',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const filesProcessed = new Counter({
  name: 'casedrop_files_total',
  help: 'Attachments verified by the intake worker, by verdict and reason',
  labelNames: ['verdict', 'reason'] as const,
  registers: [registry],
});

export const jobsFinished = new Counter({
  name: 'casedrop_jobs_total',
  help: 'Jobs finished per queue and result (completed, failed, retried)',
  labelNames: ['queue', 'result'] as const,
  registers: [registry],
});

export const repliesSent = new Counter({
  name: 'casedrop_replies_total',
  help: 'Outgoing mail and webhooks by kind (dsn, receipt, engineer, upload-notice, webhook) and result (sent, suppressed)',
  labelNames: ['kind', 'result'] as const,
  registers: [registry],
});

export const objectsQuarantined = new Counter({
  name: 'casedrop_objects_quarantined_total',
  help: 'Objects that failed authentication on read (OBJECT_CORRUPT, OBJECT_TRUNCATED) and were moved to quarantine/, by namespace',
  labelNames: ['namespace', 'code'] as const,
  registers: [registry],
});

export const storeWriteBytes = new Counter({
  name: 'casedrop_store_write_bytes_total',
  help: 'Bytes of large objects written past their first 4 MiB, by path: direct (O_DIRECT) or page-cache (the file system refused O_DIRECT, CASEDROP_STORE_DIRECT_IO is off, or every aligned slot was taken)',
  labelNames: ['path'] as const,
  registers: [registry],
});

export const sendersUntrusted = new Counter({
  name: 'casedrop_replies_untrusted_total',
  help: 'Sender replies (dsn, receipt) not sent because the envelope sender is not authenticated (no SPF pass, aligned DKIM or DMARC pass, not a contact)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const replyCapHits = new Counter({
  name: 'casedrop_reply_cap_hits_total',
  help: 'Mails combined into a digest because a cap was reached: sender, sender-domain, client-ip, total (sender replies) or case-notices (engineer notices)',
  labelNames: ['cap'] as const,
  registers: [registry],
});

export const senderChecks = new Counter({
  name: 'casedrop_sender_checks_total',
  help: 'Messages checked by the intake worker, by how the sender was authenticated (dmarc, spf, dkim, trusted-network, none) and whether a DNS look-up failed for now',
  labelNames: ['via', 'temperror'] as const,
  registers: [registry],
});

export const uploadLoginFailures = new Counter({
  name: 'casedrop_upload_login_failures_total',
  help: 'Upload requests with a wrong, expired or revoked token, or for a closed case',
  registers: [registry],
});

export const uploadLoginsBlocked = new Counter({
  name: 'casedrop_upload_logins_blocked_total',
  help: 'Upload requests answered 429 because their address or case had too many failed logins, by scope',
  labelNames: ['scope'] as const,
  registers: [registry],
});

export const uploads = new Counter({
  name: 'casedrop_uploads_total',
  help: 'Upload requests by channel and result (stored, refused, digest-mismatch, too-big, disk-full, aborted, …)',
  labelNames: ['channel', 'result'] as const,
  registers: [registry],
});

export const uploadBytes = new Counter({
  name: 'casedrop_upload_bytes_total',
  help: 'Bytes of uploads stored, by channel',
  labelNames: ['channel'] as const,
  registers: [registry],
});

export const uploadsExpired = new Counter({
  name: 'casedrop_uploads_expired_total',
  help: 'Unfinished uploads removed because they were not completed within CASEDROP_UPLOAD_PARTIAL_TTL_SECONDS',
  registers: [registry],
});
