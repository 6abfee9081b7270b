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
  case: (prefix: string, caseNumber: string): string => join(prefix, 'case', caseNumber),
  casesInState: (prefix: string, state: string): string => join(prefix, 'cases', state),
  caseNamesByFile: (prefix: string, caseNumber: string): string => join(prefix, 'case-names', caseNumber, 'by-file'),
  caseNamesByName: (prefix: string, caseNumber: string): string => join(prefix, 'case-names', caseNumber, 'by-name'),
  caseNamesNext: (prefix: string, caseNumber: string): string => join(prefix, 'case-names', caseNumber, 'next'),
  dedup: (prefix: string, messageHash: string): string => join(prefix, 'smtp', 'dedup', messageHash),
  replyRate: (prefix: string, sender: string): string => join(prefix, 'reply-rate', sender),
  replyCounted: (prefix: string, spoolId: string): string => join(prefix, 'reply-counted', spoolId),
  uploadTokens: (prefix: string, caseNumber: string): string => join(prefix, 'upload-tokens', caseNumber),
  uploadTokenUse: (prefix: string, caseNumber: string): string => join(prefix, 'upload-token-use', caseNumber),
  uploadTokenIndex: (prefix: string): string => join(prefix, 'upload-token-index'),
  uploadBytes: (prefix: string, caseNumber: string): string => join(prefix, 'upload-bytes', caseNumber),
  upload: (prefix: string, uploadId: string): string => join(prefix, 'upload', uploadId),
  uploadByName: (prefix: string, caseNumber: string, tokenId: string): string => join(prefix, 'upload-by-name', caseNumber, tokenId),
  uploadsExpiring: (prefix: string): string => join(prefix, 'uploads-expiring'),
  uploadLock: (prefix: string, uploadId: string): string => join(prefix, 'upload-lock', uploadId),
  loginFailuresByAddress: (prefix: string, address: string): string => join(prefix, 'login-fail', 'addr', address),
  loginFailuresByCase: (prefix: string, caseNumber: string): string => join(prefix, 'login-fail', 'case', caseNumber),
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
  case: { pattern: '<prefix>:case:<caseNumber>', type: 'hash', holds: 'one case: number, state, owner, createdAt, closedAt', expires: 'never (the case registry)', owner: 'src/cases/registry.ts' },
  casesInState: { pattern: '<prefix>:cases:<state>', type: 'set', holds: 'the case numbers in state open or closed', expires: 'never', owner: 'src/cases/registry.ts' },
  caseNamesByFile: { pattern: '<prefix>:case-names:<caseNumber>:by-file', type: 'hash', holds: "stored file id → the stored name it got", expires: 'never', owner: 'src/pipeline/stored-names.ts' },
  caseNamesByName: { pattern: '<prefix>:case-names:<caseNumber>:by-name', type: 'hash', holds: 'stored name → the file id that holds it', expires: 'never', owner: 'src/pipeline/stored-names.ts' },
  caseNamesNext: { pattern: '<prefix>:case-names:<caseNumber>:next', type: 'hash', holds: 'wanted name → the highest "(n)" handed out for it', expires: 'never', owner: 'src/pipeline/stored-names.ts' },
  dedup: { pattern: '<prefix>:smtp:dedup:<messageHash>', type: 'string', holds: 'SHA-256 of Message-ID and content → the spool id it was queued under', expires: 'CASEDROP_DEDUP_WINDOW_SECONDS after the claim', owner: 'src/smtp/dedup.ts' },
  replyRate: { pattern: '<prefix>:reply-rate:<sender>', type: 'string', holds: "count of automatic replies to a sender (lower case) in the current hour", expires: '1 hour after the first counted reply', owner: 'src/notify/rate-limit.ts' },
  replyCounted: { pattern: '<prefix>:reply-counted:<spoolId>', type: 'string', holds: 'the rate decision for one outcome (allowed or limited), so a retry gets the same answer', expires: '7 days', owner: 'src/notify/rate-limit.ts' },
  uploadTokens: { pattern: '<prefix>:upload-tokens:<caseNumber>', type: 'hash', holds: 'token id → JSON (label, created, expires, channels, byte cap, SHA-256 of the secret; never the secret)', expires: 'when revoked', owner: 'src/cases/tokens.ts' },
  uploadTokenUse: { pattern: '<prefix>:upload-token-use:<caseNumber>', type: 'hash', holds: '`<id>:bytes` uploaded and `<id>:last` used, per token', expires: 'when the token is revoked', owner: 'src/cases/tokens.ts' },
  uploadTokenIndex: { pattern: '<prefix>:upload-token-index', type: 'hash', holds: 'SHA-256 of a secret → its case (a Bearer login names no case)', expires: 'when the token is revoked', owner: 'src/cases/tokens.ts' },
  uploadBytes: { pattern: '<prefix>:upload-bytes:<caseNumber>', type: 'string', holds: 'bytes uploaded to the case, for CASEDROP_UPLOAD_MAX_CASE_BYTES', expires: 'never', owner: 'src/upload/usage.ts' },
  upload: { pattern: '<prefix>:upload:<uploadId>', type: 'hash', holds: 'an unfinished upload: case, token id and label, name, length, created, expires, promised digest', expires: 'when it completes or expires (CASEDROP_UPLOAD_PARTIAL_TTL_SECONDS)', owner: 'src/upload/partials.ts' },
  uploadByName: { pattern: '<prefix>:upload-by-name:<caseNumber>:<tokenId>', type: 'hash', holds: "file name → the unfinished upload of that name made with that token (HEAD/PATCH find it; other tokens cannot)", expires: 'entries go when their upload completes or expires', owner: 'src/upload/partials.ts' },
  uploadsExpiring: { pattern: '<prefix>:uploads-expiring', type: 'sorted set', holds: 'unfinished upload ids scored by expiry time (ms), for the sweep', expires: 'members go when their upload completes or expires', owner: 'src/upload/partials.ts' },
  uploadLock: { pattern: '<prefix>:upload-lock:<uploadId>', type: 'string', holds: 'the request appending to an upload (one at a time across instances)', expires: '60 s unless renewed by the request holding it', owner: 'src/upload/partials.ts' },
  loginFailuresByAddress: { pattern: '<prefix>:login-fail:addr:<address>', type: 'string', holds: 'failed upload logins from one client address', expires: 'CASEDROP_UPLOAD_LOGIN_WINDOW_SECONDS after the first failure', owner: 'src/upload/login-limit.ts' },
  loginFailuresByCase: { pattern: '<prefix>:login-fail:case:<caseNumber>', type: 'string', holds: 'failed upload logins for one case, from any address', expires: 'CASEDROP_UPLOAD_LOGIN_WINDOW_SECONDS after the first failure', owner: 'src/upload/login-limit.ts' },
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
