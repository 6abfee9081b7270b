import { QueueName } from './jobs/types.js';

/**
 * Every Redis key casedrop writes, built here and nowhere else, all under the configured prefix so
 * test runs and instances sharing one Redis never mix. `redisKeyPatterns` lists them for operators
 * (what each holds and when it goes away); a test checks each builder against its pattern.
 */
function join(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].join(':');
}

export const redisKey = {
  record: (prefix: string, kind: string, id: string): string => join(prefix, 'rec', kind, id),
  recordCreateLock: (prefix: string, kind: string, id: string): string => join(prefix, 'rec-lock', kind, id),
  recordIndexBuiltBy: (prefix: string): string => join(prefix, 'rec-index', 'built-by'),
  /** BullMQ's own hash of one job: recovery asks only whether it exists */
  job: (prefix: string, queue: string, jobId: string): string => join(prefix, queue, jobId),
  caseNamesByFile: (prefix: string, caseNumber: string): string => join(prefix, 'case-names', caseNumber, 'by-file'),
  caseNamesByName: (prefix: string, caseNumber: string): string => join(prefix, 'case-names', caseNumber, 'by-name'),
  caseNamesNext: (prefix: string, caseNumber: string): string => join(prefix, 'case-names', caseNumber, 'next'),
  dedup: (prefix: string, messageHash: string): string => join(prefix, 'smtp', 'dedup', messageHash),
  auditHead: (prefix: string, caseNumber: string): string => join(prefix, 'audit', caseNumber, 'head'),
  auditEvents: (prefix: string, caseNumber: string): string => join(prefix, 'audit', caseNumber, 'events'),
  auditLock: (prefix: string, caseNumber: string): string => join(prefix, 'audit', caseNumber, 'lock'),
  auditPending: (prefix: string, caseNumber: string): string => join(prefix, 'audit', caseNumber, 'pending'),
  auditQueued: (prefix: string, caseNumber: string): string => join(prefix, 'audit', caseNumber, 'queued'),
  auditFlushed: (prefix: string, caseNumber: string): string => join(prefix, 'audit', caseNumber, 'flushed'),
  caseHold: (prefix: string, caseNumber: string): string => join(prefix, 'case-hold', caseNumber),
  caseContacts: (prefix: string, caseNumber: string): string => join(prefix, 'case', caseNumber, 'contacts'),
  capCount: (prefix: string, cap: string, subject: string): string => join(prefix, 'cap', cap, subject),
  capDecided: (prefix: string, use: string, spoolId: string): string => join(prefix, 'cap-decided', use, spoolId),
  batch: (prefix: string, kind: string, subject: string): string => join(prefix, 'batch', kind, subject),
  uploadTokens: (prefix: string, caseNumber: string): string => join(prefix, 'upload-tokens', caseNumber),
  uploadTokenUse: (prefix: string, caseNumber: string): string => join(prefix, 'upload-token-use', caseNumber),
  uploadTokenIndex: (prefix: string): string => join(prefix, 'upload-token-index'),
  uploadSshKeys: (prefix: string, caseNumber: string): string => join(prefix, 'upload-ssh-keys', caseNumber),
  uploadBytes: (prefix: string, caseNumber: string): string => join(prefix, 'upload-bytes', caseNumber),
  upload: (prefix: string, uploadId: string): string => join(prefix, 'upload', uploadId),
  uploadByName: (prefix: string, caseNumber: string, tokenId: string): string => join(prefix, 'upload-by-name', caseNumber, tokenId),
  uploadsExpiring: (prefix: string): string => join(prefix, 'uploads-expiring'),
  uploadLock: (prefix: string, uploadId: string): string => join(prefix, 'upload-lock', uploadId),
  loginFailuresByAddress: (prefix: string, address: string): string => join(prefix, 'login-fail', 'addr', address),
  loginFailuresByCase: (prefix: string, caseNumber: string): string => join(prefix, 'login-fail', 'case', caseNumber),
  intakeUnfinished: (prefix: string, spoolId: string): string => join(prefix, 'intake-unfinished', spoolId),
  smtpProbe: (prefix: string, clientAddress: string): string => join(prefix, 'smtp', 'probe', clientAddress),
  batchWindow: (prefix: string, kind: string, subject: string): string => join(prefix, 'batch-window', kind, subject),
};

export type RedisKeyName = keyof typeof redisKey;

export interface RedisKeyPattern {
  /** `<prefix>` is CASEDROP_REDIS_PREFIX; other `<…>` are the builder's arguments */
  pattern: string;
  type: string;
  holds: string;
  /** when the key goes away */
  expires: string;
  /** the module that writes it */
  owner: string;
}

export const redisKeyPatterns: { readonly [name in RedisKeyName]: RedisKeyPattern } & { readonly queues: RedisKeyPattern } = {
  record: {
    pattern: '<prefix>:rec:<kind>:<id>',
    type: 'hash',
    holds: 'index copy of one durable record (kind `case`: a case) as {rev, json}; the truth is records/<kind>/<id> in the store',
    expires: 'never; rebuilt from the store when Redis lost it',
    owner: 'src/records/durable.ts',
  },
  recordCreateLock: {
    pattern: '<prefix>:rec-lock:<kind>:<id>',
    type: 'string',
    holds: 'held while one process creates a record, so two creates of one id agree on a winner',
    expires: '10 s, or when the create ends',
    owner: 'src/records/durable.ts',
  },
  recordIndexBuiltBy: {
    pattern: '<prefix>:rec-index:built-by',
    type: 'string',
    holds: 'run id of the Redis server the record index was built in; another run id means Redis restarted or failed over',
    expires: 'never',
    owner: 'src/records/durable.ts',
  },
  job: {
    pattern: '<prefix>:<queue>:<jobId>',
    type: 'hash',
    holds: "BullMQ's job hash (part of the queues below); recovery only checks that it exists",
    expires: 'with the job',
    owner: 'src/pipeline/recovery.ts (reads)',
  },
  caseNamesByFile: {
    pattern: '<prefix>:case-names:<caseNumber>:by-file',
    type: 'hash',
    holds: 'stored file id → the stored name it got',
    expires: 'never',
    owner: 'src/pipeline/stored-names.ts',
  },
  caseNamesByName: {
    pattern: '<prefix>:case-names:<caseNumber>:by-name',
    type: 'hash',
    holds: 'stored name → the file id that holds it',
    expires: 'never',
    owner: 'src/pipeline/stored-names.ts',
  },
  caseNamesNext: {
    pattern: '<prefix>:case-names:<caseNumber>:next',
    type: 'hash',
    holds: 'wanted name → the highest "(n)" handed out for it',
    expires: 'never',
    owner: 'src/pipeline/stored-names.ts',
  },
  dedup: {
    pattern: '<prefix>:smtp:dedup:<messageHash>',
    type: 'string',
    holds: 'SHA-256 of Message-ID and content → the spool id it was queued under',
    expires: 'CASEDROP_DEDUP_WINDOW_SECONDS after the claim',
    owner: 'src/smtp/dedup.ts',
  },
  auditHead: {
    pattern: '<prefix>:audit:<caseNumber>:head',
    type: 'string',
    holds: "JSON {seq, hash} of the last entry of the case's audit trail, so removing the last entries is detected",
    expires: 'never',
    owner: 'src/audit/log.ts',
  },
  auditEvents: {
    pattern: '<prefix>:audit:<caseNumber>:events',
    type: 'set',
    holds: 'event ids already in the audit trail (e.g. stored:<object id>), so a retried step appends once',
    expires: 'never (rebuilt from the trail if lost)',
    owner: 'src/audit/log.ts',
  },
  auditLock: {
    pattern: '<prefix>:audit:<caseNumber>:lock',
    type: 'string',
    holds: 'a random token while one process appends to the trail',
    expires: '10 s, or when the append ends',
    owner: 'src/audit/log.ts',
  },
  auditPending: {
    pattern: '<prefix>:audit:<caseNumber>:pending',
    type: 'list',
    holds: 'events queued for the audit trail (`<number>\\n<event JSON>`), written to the store in one segment by whoever holds the lock',
    expires: 'when written (milliseconds)',
    owner: 'src/audit/log.ts',
  },
  auditQueued: {
    pattern: '<prefix>:audit:<caseNumber>:queued',
    type: 'string',
    holds: 'the number given to the last queued audit event',
    expires: 'never',
    owner: 'src/audit/log.ts',
  },
  auditFlushed: {
    pattern: '<prefix>:audit:<caseNumber>:flushed',
    type: 'string',
    holds: 'the number of the last queued audit event now in the stored chain',
    expires: 'never',
    owner: 'src/audit/log.ts',
  },
  caseHold: {
    pattern: '<prefix>:case-hold:<caseNumber>',
    type: 'hash',
    holds: 'a legal hold: reason, by, since; retention skips the case while it exists',
    expires: 'when the hold is lifted',
    owner: 'src/retention/holds.ts',
  },
  caseContacts: {
    pattern: '<prefix>:case:<caseNumber>:contacts',
    type: 'set',
    holds: 'the senders a case accepts: addresses and @domains (lower case)',
    expires: 'never (moves with the case record)',
    owner: 'src/cases/contacts.ts',
  },
  capCount: {
    pattern: '<prefix>:cap:<cap>:<subject>',
    type: 'string',
    holds: 'separate mails counted against one cap this hour: sender, sender-domain, client-ip, total (subject `all`) or case-notices',
    expires: '1 hour after the first counted mail',
    owner: 'src/notify/caps.ts',
  },
  capDecided: {
    pattern: '<prefix>:cap-decided:<use>:<spoolId>',
    type: 'string',
    holds: 'the cap decision for one outcome (`allowed` or the cap it hit), so a retry gets the same answer',
    expires: '7 days',
    owner: 'src/notify/caps.ts',
  },
  batch: {
    pattern: '<prefix>:batch:<kind>:<subject>',
    type: 'sorted set',
    holds:
      'outcomes waiting for a digest (kind `sender`, subject the address) or a combined notice (kind `case`), or the file ids of uploads waiting for their engineer notice (kind `upload`, subject the case), scored by when they joined',
    expires: 'each member once its digest or notice was sent',
    owner: 'src/notify/batch.ts',
  },
  uploadTokens: {
    pattern: '<prefix>:upload-tokens:<caseNumber>',
    type: 'hash',
    holds: 'token id → JSON (label, created, expires, channels, byte cap, SHA-256 of the secret; never the secret)',
    expires: 'when revoked',
    owner: 'src/cases/tokens.ts',
  },
  uploadTokenUse: {
    pattern: '<prefix>:upload-token-use:<caseNumber>',
    type: 'hash',
    holds: '`<id>:bytes` uploaded and `<id>:last` used, per token or SSH key',
    expires: 'when the token is revoked or the key removed',
    owner: 'src/cases/tokens.ts',
  },
  uploadTokenIndex: {
    pattern: '<prefix>:upload-token-index',
    type: 'hash',
    holds: 'SHA-256 of a secret → its case (a Bearer login names no case)',
    expires: 'when the token is revoked',
    owner: 'src/cases/tokens.ts',
  },
  uploadSshKeys: {
    pattern: '<prefix>:upload-ssh-keys:<caseNumber>',
    type: 'hash',
    holds: 'SSH key id → JSON (label, type, SHA-256 fingerprint, added, the public key) for SFTP/SCP logins to the case',
    expires: 'when removed',
    owner: 'src/cases/ssh-keys.ts',
  },
  uploadBytes: {
    pattern: '<prefix>:upload-bytes:<caseNumber>',
    type: 'string',
    holds: 'bytes uploaded to the case, for CASEDROP_UPLOAD_MAX_CASE_BYTES',
    expires: 'never',
    owner: 'src/upload/usage.ts',
  },
  upload: {
    pattern: '<prefix>:upload:<uploadId>',
    type: 'hash',
    holds: 'an unfinished upload: case, token id and label, name, length, created, expires, promised digest',
    expires: 'when it completes or expires (CASEDROP_UPLOAD_PARTIAL_TTL_SECONDS)',
    owner: 'src/upload/partials.ts',
  },
  uploadByName: {
    pattern: '<prefix>:upload-by-name:<caseNumber>:<tokenId>',
    type: 'hash',
    holds: 'file name → the unfinished upload of that name made with that token (HEAD/PATCH find it; other tokens cannot)',
    expires: 'entries go when their upload completes or expires',
    owner: 'src/upload/partials.ts',
  },
  uploadsExpiring: {
    pattern: '<prefix>:uploads-expiring',
    type: 'sorted set',
    holds: 'unfinished upload ids scored by expiry time (ms), for the sweep',
    expires: 'members go when their upload completes or expires',
    owner: 'src/upload/partials.ts',
  },
  uploadLock: {
    pattern: '<prefix>:upload-lock:<uploadId>',
    type: 'string',
    holds: 'the request appending to an upload (one at a time across instances)',
    expires: '60 s unless renewed by the request holding it',
    owner: 'src/upload/partials.ts',
  },
  loginFailuresByAddress: {
    pattern: '<prefix>:login-fail:addr:<address>',
    type: 'string',
    holds: 'failed upload logins from one client address',
    expires: 'CASEDROP_UPLOAD_LOGIN_WINDOW_SECONDS after the first failure',
    owner: 'src/upload/login-limit.ts',
  },
  loginFailuresByCase: {
    pattern: '<prefix>:login-fail:case:<caseNumber>',
    type: 'string',
    holds: 'failed upload logins for one case, from any address',
    expires: 'CASEDROP_UPLOAD_LOGIN_WINDOW_SECONDS after the first failure',
    owner: 'src/upload/login-limit.ts',
  },
  intakeUnfinished: {
    pattern: '<prefix>:intake-unfinished:<spoolId>',
    type: 'string',
    holds: "attempts of a message's parse that never finished (its worker died): the poison-message marker",
    expires: 'when the analysis is back (or fails in-band), or the job is retried by hand; 30 days at most',
    owner: 'src/pipeline/attempts.ts',
  },
  smtpProbe: {
    pattern: '<prefix>:smtp:probe:<clientAddress>',
    type: 'string',
    holds: '"case does not exist" replies to one client address in the current window (case-number probing)',
    expires: 'CASEDROP_SMTP_PROBE_WINDOW_SECONDS after the first one',
    owner: 'src/smtp/probing.ts',
  },
  batchWindow: {
    pattern: '<prefix>:batch-window:<kind>:<subject>',
    type: 'string',
    holds: 'the end (epoch ms) of the batch window the first waiting member opened',
    expires: 'twice the digest interval (kind `upload`: the upload notice window) after it opened',
    owner: 'src/notify/batch.ts',
  },
  queues: {
    pattern: `<prefix>:{${Object.values(QueueName).join(',')}}:*`,
    type: 'BullMQ',
    holds: 'the job queues (job data holds ids only); the failed set is the dead-letter list',
    expires: 'completed jobs after 24 h (at most 10,000 kept); failed jobs when retried',
    owner: 'src/jobs/queues.ts',
  },
};

/** The patterns as a Markdown table, for docs that a test keeps in step with this module. */
export function redisKeysMarkdown(): string {
  const rows = Object.values(redisKeyPatterns).map((p) => `| \`${p.pattern}\` | ${p.type} | ${p.holds} | ${p.expires} | \`${p.owner}\` |`);
  return ['| key | type | holds | goes away | written by |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
