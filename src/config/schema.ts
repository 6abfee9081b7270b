import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Every setting in one place: environment variable, schema (with its default) and a line of
 * documentation. The README's config table is generated from this list and a test keeps the two
 * in sync, so a reader finds where a parameter goes by its name alone.
 */
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);
const optionalString = z.string().min(1).optional();
// zod's email() refuses dotless domains such as `localhost`, which a laptop set-up needs
const address = z.string().regex(/^[^\s@<>,]+@[^\s@<>,]+$/, 'not an email address');

/** `192.0.2.1`, `192.0.2.0/24`, `::1`, `2001:db8::/32` */
function isCidr(value: string): boolean {
  const [address = '', bits, extra] = value.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

export interface Setting {
  env: string;
  schema: z.ZodType;
  default?: string;
  secret?: boolean;
  doc: string;
}

function setting<S extends z.ZodType>(env: string, schema: S, def: string | undefined, doc: string, secret = false): Setting & { schema: S } {
  return { env, schema, default: def, doc, secret };
}

export const settings = {
  // process
  mode: setting(
    'NODE_ENV',
    z.enum(['development', 'production', 'test']),
    'development',
    '`production` makes a missing master key a start-up error instead of creating one.',
  ),
  logLevel: setting(
    'CASEDROP_LOG_LEVEL',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'info',
    'pino log level. Below `debug`, email addresses in logs show as a stable hash and their domain (`#3f9a…@example.com`).',
  ),
  hostname: setting(
    'CASEDROP_HOSTNAME',
    z.string().min(1),
    'localhost',
    'Name this host uses in its SMTP greeting, `Received:` headers and DSN `Reporting-MTA`.',
  ),
  dataDir: setting(
    'CASEDROP_DATA_DIR',
    z.string().min(1),
    './data',
    'Root of the encrypted store (spool, cases), the dev master key and the outbox. A local file system: its quick calls (open, stat, rename) run on the event loop (src/store/quick-fs.ts), so a hung network mount would stall the process.',
  ),
  masterKeys: setting(
    'CASEDROP_MASTER_KEYS',
    optionalString,
    undefined,
    'Comma-separated `id:base64(32 bytes)`; the first is active, the rest only unwrap older objects. `casedrop keygen` makes one.',
    true,
  ),
  keyStoreDir: setting(
    'CASEDROP_KEYSTORE_DIR',
    optionalString,
    undefined,
    'The key store: one key per case object, wrapped under the master key; destroying one is what makes a purge final. Default `<data dir>.keys`, beside (not inside) the data dir. Back it up separately, with short retention (see Retention and purge).',
  ),
  storeDirectIo: setting(
    'CASEDROP_STORE_DIRECT_IO',
    bool,
    'true',
    'Write large objects (past their first 4 MiB: uploads, big attachments) with O_DIRECT, bypassing the page cache: they must reach the disk before they count as stored, and on the bench machine that took the upload role from 3.4-3.7 to 2.1-2.8 CPU s per GiB (bench/README.md). Falls back to the page cache by itself where the file system refuses O_DIRECT; `false` for a file system where it is known to misbehave.',
  ),
  shutdownGraceMs: setting(
    'CASEDROP_SHUTDOWN_GRACE_MS',
    positiveInt,
    '10000',
    'On SIGTERM, how long sessions and jobs in flight may take before the process exits anyway.',
  ),

  // redis / queue
  redisUrl: setting(
    'CASEDROP_REDIS_URL',
    z.string().url(),
    'redis://127.0.0.1:6379',
    'Redis for the queues and the index of cases (`maxmemory-policy noeviction` required; `appendonly yes` recommended, see Crash safety and Redis).',
    true,
  ),
  redisPrefix: setting(
    'CASEDROP_REDIS_PREFIX',
    z.string().regex(/^[A-Za-z0-9:_-]+$/),
    'casedrop',
    'Prefix of every Redis key and queue, so several instances (or test runs) share one Redis.',
  ),

  // intake policy
  intakeAddresses: setting(
    'CASEDROP_INTAKE_ADDRESSES',
    list.pipe(z.array(address).min(1)),
    'attach@localhost',
    'Comma-separated addresses that accept mail; `local+<case>@domain` sub-addresses carry the case number.',
  ),
  maxMessageBytes: setting(
    'CASEDROP_MAX_MESSAGE_BYTES',
    positiveInt,
    '20971520',
    'Largest message accepted, counted on the wire (after base64), advertised as `SIZE`.',
  ),
  caseDigits: setting('CASEDROP_CASE_DIGITS', z.coerce.number().int().min(4).max(20), '9', 'Number of digits in a case number.'),
  caseSubjectPrefixes: setting(
    'CASEDROP_CASE_SUBJECT_PREFIXES',
    list.pipe(z.array(z.string().min(1)).min(1)),
    'Case,SR,Service Request',
    'Words that introduce a case number in the Subject (`Case 612345678`, `SR#612345678`).',
  ),
  dedupWindowSeconds: setting(
    'CASEDROP_DEDUP_WINDOW_SECONDS',
    nonNegativeInt,
    '86400',
    'A message with the same Message-ID and content hash within this window is answered 250 but not queued again (0 turns it off).',
  ),

  // smtp listener
  smtpHost: setting('CASEDROP_SMTP_HOST', z.string().min(1), '127.0.0.1', 'SMTP listen address.'),
  smtpPort: setting('CASEDROP_SMTP_PORT', port, '2525', 'SMTP listen port.'),
  smtpMaxConnections: setting('CASEDROP_SMTP_MAX_CONNECTIONS', positiveInt, '200', 'Concurrent SMTP connections in total.'),
  smtpMaxConnectionsPerIp: setting('CASEDROP_SMTP_MAX_CONNECTIONS_PER_IP', positiveInt, '20', 'Concurrent SMTP connections from one client IP.'),
  smtpMaxConnectionsPerNet: setting(
    'CASEDROP_SMTP_MAX_CONNECTIONS_PER_NET',
    positiveInt,
    '40',
    'Concurrent SMTP connections from one client network (IPv4 /24, IPv6 /48), so a few neighbouring addresses cannot hold every slot.',
  ),
  smtpSessionTimeoutMs: setting(
    'CASEDROP_SMTP_SESSION_TIMEOUT_MS',
    positiveInt,
    '900000',
    'Longest an SMTP session may last however busy it is (a client trickling a byte before each idle timeout still leaves); then `421 4.4.2`.',
  ),
  smtpProbeWindowSeconds: setting(
    'CASEDROP_SMTP_PROBE_WINDOW_SECONDS',
    positiveInt,
    '600',
    'Window in which "case does not exist" replies to one client address are counted (case-number probing).',
  ),
  smtpProbeTarpitAfter: setting(
    'CASEDROP_SMTP_PROBE_TARPIT_AFTER',
    positiveInt,
    '5',
    'From this many "case does not exist" replies in the window on, each further one is delayed (one second more each, at most ten).',
  ),
  smtpProbeBlockAfter: setting(
    'CASEDROP_SMTP_PROBE_BLOCK_AFTER',
    positiveInt,
    '20',
    'With this many in the window, the address is refused at MAIL (`421 4.7.0`) until the window ends.',
  ),
  smtpSocketTimeoutMs: setting(
    'CASEDROP_SMTP_SOCKET_TIMEOUT_MS',
    positiveInt,
    '60000',
    'Idle time allowed between commands (and between data chunks) before the session is closed.',
  ),
  smtpMaxRecipients: setting('CASEDROP_SMTP_MAX_RECIPIENTS', positiveInt, '10', 'Recipients per message; more get `452 4.5.3`.'),
  smtpMaxHeaderBytes: setting('CASEDROP_SMTP_MAX_HEADER_BYTES', positiveInt, '262144', 'Largest header block read to find the Subject; larger is refused.'),
  smtpEarlyTalkerDelayMs: setting(
    'CASEDROP_SMTP_EARLY_TALKER_DELAY_MS',
    nonNegativeInt,
    '100',
    'Pause before the greeting that catches clients talking too early (0 turns it off, e.g. behind a trusted relay).',
  ),
  smtpBareLineEndings: setting(
    'CASEDROP_SMTP_BARE_LINE_ENDINGS',
    z.enum(['reject', 'normalize']),
    'reject',
    'A message with a bare CR or bare LF (SMTP smuggling material): refuse it with 550 5.6.0, or rewrite them to CRLF before spooling.',
  ),
  smtpTlsCert: setting('CASEDROP_SMTP_TLS_CERT', optionalString, undefined, 'PEM certificate file; with the key, enables STARTTLS.'),
  smtpTlsKey: setting('CASEDROP_SMTP_TLS_KEY', optionalString, undefined, 'PEM private key file for STARTTLS.', true),
  smtpRequireTls: setting('CASEDROP_SMTP_REQUIRE_TLS', bool, 'false', 'Refuse MAIL before STARTTLS (`530 5.7.0`).'),
  smtpAuthUsers: setting(
    'CASEDROP_SMTP_AUTH_USERS',
    optionalString,
    undefined,
    'Comma-separated `user:password` for relays; when set, AUTH is offered and required.',
    true,
  ),
  smtpProxyProtocol: setting('CASEDROP_SMTP_PROXY_PROTOCOL', bool, 'false', 'Expect a PROXY protocol header from a load balancer.'),
  smtpLmtp: setting('CASEDROP_SMTP_LMTP', bool, 'false', 'Speak LMTP (one reply per recipient) for an MTA that delivers into casedrop.'),

  // worker
  workerConcurrency: setting(
    'CASEDROP_WORKER_CONCURRENCY',
    positiveInt,
    '16',
    'Jobs processed at once per worker process, per queue (intake, notify, outbound): most of a job is waiting for fsync or a relay, so more than the cores.',
  ),
  workerMemoryBytes: setting(
    'CASEDROP_WORKER_MEMORY_BYTES',
    positiveInt,
    '50331648',
    'Message bytes a worker process works on at once; each message counts twice its spooled size (parsed attachments plus the copy being stored). Bigger bursts wait; a message over the budget runs alone.',
  ),
  jobAttempts: setting('CASEDROP_JOB_ATTEMPTS', positiveInt, '10', 'Tries of a job with a temporary failure before it is dead-lettered.'),
  jobBackoffMs: setting('CASEDROP_JOB_BACKOFF_MS', positiveInt, '2000', 'First retry delay; doubles each try.'),
  noteMaxBytes: setting('CASEDROP_NOTE_MAX_BYTES', positiveInt, '65536', 'Largest message text kept as a case note.'),
  workerLockMs: setting(
    'CASEDROP_WORKER_LOCK_MS',
    positiveInt,
    '30000',
    'How long a worker holds a job without renewing its lock; a job whose worker died is taken back after this.',
  ),
  workerStalledCheckMs: setting(
    'CASEDROP_WORKER_STALLED_CHECK_MS',
    positiveInt,
    '30000',
    'How often workers look for jobs whose worker died (stalled) and queue them again.',
  ),
  recoveryAgeSeconds: setting(
    'CASEDROP_RECOVERY_AGE_SECONDS',
    positiveInt,
    '60',
    "Workers re-queue every spool object (and every outcome with replies not all sent) this old that Redis has no job for, at start, this often, and at once when Redis was restarted or reset. Must exceed the door's 10 s queue-add limit.",
  ),
  forwardDepth: setting('CASEDROP_FORWARD_DEPTH', nonNegativeInt, '3', 'How many forwarded messages (message/rfc822) deep the worker looks for files.'),
  maxFilesPerMessage: setting(
    'CASEDROP_MAX_FILES_PER_MESSAGE',
    positiveInt,
    '100',
    'Files one message may bring; the first ones are judged and stored, the rest are refused together as `too-many-files`.',
  ),
  maxMimeParts: setting(
    'CASEDROP_MAX_MIME_PARTS',
    positiveInt,
    '1000',
    'MIME parts of one message, counted over every forwarded message in it; a message with more is refused as `too-many-parts` before its files are read.',
  ),
  maxNameChars: setting(
    'CASEDROP_MAX_NAME_CHARS',
    positiveInt,
    '255',
    'An attachment name (filename parameter, RFC 2231 continuations joined) is cut to this many characters before anything reads it; stored names are further cut to 200 bytes.',
  ),
  maxHeaderValueChars: setting(
    'CASEDROP_MAX_HEADER_VALUE_CHARS',
    positiveInt,
    '4096',
    'A header value (Subject, From, Message-ID) is cut to this many characters before a rule reads it or it is kept; the case number is looked for in this much of the Subject.',
  ),
  replyMaxListed: setting(
    'CASEDROP_REPLY_MAX_LISTED',
    positiveInt,
    '50',
    'Refused files listed one by one in a reply or notice; the rest are summarised in one line by reason.',
  ),
  parseThreads: setting(
    'CASEDROP_PARSE_THREADS',
    nonNegativeInt,
    '1',
    'Worker threads that parse and verify messages, one message each at a time, apart from the door and the other jobs (0 parses in the main thread: no isolation, for debugging only).',
  ),
  parseMemoryMb: setting(
    'CASEDROP_PARSE_MEMORY_MB',
    positiveInt,
    '64',
    'V8 heap (old generation) of each parse thread; a message that needs more is refused as `too-complex` (attachment bytes live outside this heap).',
  ),
  parseTimeMs: setting(
    'CASEDROP_PARSE_TIME_MS',
    positiveInt,
    '60000',
    'Time one message may take to parse and verify in its thread; past it the thread is stopped and the message refused as `too-complex`.',
  ),
  poisonAttempts: setting(
    'CASEDROP_POISON_ATTEMPTS',
    positiveInt,
    '3',
    'Attempts of a message whose parse never finished (its process was killed or crashed during it) before the job is dead-lettered as `too-complex`, its spool kept for `casedrop jobs retry`, and the sender told.',
  ),
  pgpPublicKeyFile: setting(
    'CASEDROP_PGP_PUBLIC_KEY_FILE',
    optionalString,
    undefined,
    "casedrop's published OpenPGP public key (armored); attachments encrypted to it are accepted.",
  ),
  pgpPrivateKeyFile: setting(
    'CASEDROP_PGP_PRIVATE_KEY_FILE',
    optionalString,
    undefined,
    'Its secret key (armored); when set, attachments encrypted to it are decrypted in memory to prove integrity.',
    true,
  ),
  pgpPrivateKeyPassphrase: setting('CASEDROP_PGP_PRIVATE_KEY_PASSPHRASE', optionalString, undefined, 'Passphrase of that secret key.', true),

  // retention and purge
  retentionMonths: setting(
    'CASEDROP_RETENTION_MONTHS',
    positiveInt,
    '18',
    'Months a closed case keeps its files instantly accessible; then the daily retention job archives or deletes them.',
  ),
  retentionAction: setting(
    'CASEDROP_RETENTION_ACTION',
    z.enum(['archive', 'delete']),
    'archive',
    'What retention does with a case closed longer than that: move its files and notes to the archive, or delete (shred) them.',
  ),
  archiveDir: setting(
    'CASEDROP_ARCHIVE_DIR',
    optionalString,
    undefined,
    'Where archived cases go (default `<data dir>/archive`); their keys live in the key store under `archive/`.',
  ),
  archiveMasterKeys: setting(
    'CASEDROP_ARCHIVE_MASTER_KEYS',
    optionalString,
    undefined,
    'Master keys of the archive, same syntax as `CASEDROP_MASTER_KEYS` (default: those keys).',
    true,
  ),
  stagingDays: setting(
    'CASEDROP_STAGING_DAYS',
    positiveInt,
    '4',
    'Days staging leftovers (spool objects no live job points at, partial uploads, key store entries whose object is gone) are kept before retention removes them.',
  ),
  // sender authentication (src/auth/)
  authPolicy: setting(
    'CASEDROP_AUTH_POLICY',
    z.enum(['record', 'require']),
    'record',
    '`record`: check SPF, DKIM, DMARC and ARC for every message and record the result, refuse nothing; `require`: also refuse unauthenticated mail at the door (`550 5.7.23` SPF failed, `550 5.7.26` several checks failed; a DNS timeout is `451 4.4.3`).',
  ),
  authTrustedNetworks: setting(
    'CASEDROP_AUTH_TRUSTED_NETWORKS',
    list.pipe(z.array(z.string().refine(isCidr, 'not an IP address or CIDR range'))),
    '127.0.0.0/8,::1',
    'Client addresses (IP or CIDR) whose mail counts as authenticated: a relay that checked it already, or local submission. The checks still run and are recorded. Empty trusts no one.',
  ),
  dnsServers: setting(
    'CASEDROP_DNS_SERVERS',
    list.pipe(z.array(z.string().min(1))),
    '',
    'Comma-separated DNS servers (`ip` or `ip:port`) for SPF, DKIM, DMARC and ARC look-ups; empty uses the system resolver.',
  ),
  dnsTimeoutMs: setting(
    'CASEDROP_DNS_TIMEOUT_MS',
    positiveInt,
    '5000',
    'How long one DNS query may take; a timeout is a temporary failure (`temperror`), never a reason for a 5xx.',
  ),

  // replies and notifications
  relayUrl: setting(
    'CASEDROP_RELAY_URL',
    optionalString,
    undefined,
    'Outgoing relay, `smtp://[user:pass@]host:port` or `smtps://…`; unset writes `.eml` files to `<data dir>/outbox`.',
    true,
  ),
  postmasterAddress: setting(
    'CASEDROP_POSTMASTER_ADDRESS',
    address.optional(),
    undefined,
    'Where mail to `postmaster@<intake domain>` (RFC 5321 4.5.1) is forwarded unchanged, through the relay; unset writes it to `<data dir>/outbox`.',
  ),
  replyFrom: setting('CASEDROP_REPLY_FROM', address.optional(), undefined, 'From address of replies and notices (default: the first intake address).'),
  receipts: setting('CASEDROP_RECEIPTS', bool, 'true', 'Send a receipt when every file was stored.'),
  replyRatePerHour: setting(
    'CASEDROP_REPLY_RATE_PER_HOUR',
    positiveInt,
    '20',
    'Separate replies per sender address per hour; beyond it (or any cap below) the replies are combined into one digest per sender per `CASEDROP_DIGEST_INTERVAL_SECONDS`.',
  ),
  replyRatePerDomainPerHour: setting(
    'CASEDROP_REPLY_RATE_PER_DOMAIN_PER_HOUR',
    positiveInt,
    '40',
    'Separate replies per sender domain per hour (plus-addresses and every local part of one domain count together).',
  ),
  replyRatePerIpPerHour: setting(
    'CASEDROP_REPLY_RATE_PER_IP_PER_HOUR',
    positiveInt,
    '40',
    'Separate replies per client IP (the one that sent the message) per hour.',
  ),
  replyRateTotalPerHour: setting('CASEDROP_REPLY_RATE_TOTAL_PER_HOUR', positiveInt, '500', 'Separate replies to senders in total per hour.'),
  digestIntervalSeconds: setting(
    'CASEDROP_DIGEST_INTERVAL_SECONDS',
    positiveInt,
    '900',
    'A sender over a reply cap gets one digest per interval listing every message, stored file and refused file since the last mail; an engineer over the notice cap one combined notice per case.',
  ),
  engineerNoticesPerCasePerHour: setting(
    'CASEDROP_ENGINEER_NOTICES_PER_CASE_PER_HOUR',
    positiveInt,
    '10',
    'Separate engineer notices per case per hour; beyond it a burst becomes one combined notice per digest interval.',
  ),
  webhookUrls: setting(
    'CASEDROP_WEBHOOK_URLS',
    list.pipe(z.array(z.string().url())),
    '',
    'Comma-separated URLs that get a signed JSON POST for each processed message.',
  ),
  webhookSecret: setting('CASEDROP_WEBHOOK_SECRET', optionalString, undefined, 'HMAC-SHA256 key for `X-Casedrop-Signature`.', true),

  // http
  httpHost: setting('CASEDROP_HTTP_HOST', z.string().min(1), '127.0.0.1', 'HTTP listen address (health, metrics).'),
  httpPort: setting('CASEDROP_HTTP_PORT', port, '8080', 'HTTP listen port.'),
  smtpOpsPort: setting(
    'CASEDROP_SMTP_OPS_PORT',
    port,
    '8081',
    'With `--role smtp`, the port where the door serves its own `/healthz` and `/metrics` (on `CASEDROP_HTTP_HOST`); with `all`, the HTTP port serves them.',
  ),
  workerOpsPort: setting(
    'CASEDROP_WORKER_OPS_PORT',
    port,
    '8082',
    'With `--role worker`, the port where the worker serves its own `/healthz` and `/metrics` (on `CASEDROP_HTTP_HOST`).',
  ),

  // upload drive (the public listener; /healthz and /metrics stay on the internal one above)
  uploadHost: setting(
    'CASEDROP_UPLOAD_HOST',
    z.string().min(1),
    '127.0.0.1',
    'Upload listen address (HTTPS `PUT /home/<name>`, tus at `/files/`). Without a certificate only a loopback address is allowed.',
  ),
  uploadPort: setting('CASEDROP_UPLOAD_PORT', port, '8443', 'Upload listen port.'),
  uploadTlsCert: setting(
    'CASEDROP_UPLOAD_TLS_CERT',
    optionalString,
    undefined,
    'PEM certificate file of the upload listener; without it (and the key) uploads are plain HTTP on loopback, with a warning at start.',
  ),
  uploadTlsKey: setting('CASEDROP_UPLOAD_TLS_KEY', optionalString, undefined, 'PEM private key file of the upload listener.', true),
  uploadPublicUrl: setting(
    'CASEDROP_UPLOAD_PUBLIC_URL',
    z.string().url().optional(),
    undefined,
    'Base URL customers upload to (e.g. `https://upload.example.com`), quoted in replies and DSNs; default: derived from the listen address.',
  ),
  uploadMaxFileBytes: setting(
    'CASEDROP_UPLOAD_MAX_FILE_BYTES',
    positiveInt,
    String(2 ** 40),
    'Largest file one upload may store (default 1 TiB); larger is refused with 413.',
  ),
  uploadMaxCaseBytes: setting(
    'CASEDROP_UPLOAD_MAX_CASE_BYTES',
    positiveInt,
    String(4 * 2 ** 40),
    'Bytes all uploads to one case may store (default 4 TiB); beyond it 413.',
  ),
  uploadIdleTimeoutMs: setting(
    'CASEDROP_UPLOAD_IDLE_TIMEOUT_MS',
    positiveInt,
    '120000',
    "An upload connection that sends nothing for this long is closed (there is no limit on a whole upload's duration).",
  ),
  uploadPartialTtlSeconds: setting(
    'CASEDROP_UPLOAD_PARTIAL_TTL_SECONDS',
    positiveInt,
    '345600',
    'An unfinished upload (cut off, waiting for HEAD + PATCH to resume it) is removed this long after it started (default 4 days, the staging period of the retention policy), with a log line and a metric.',
  ),
  uploadNoticeWindowSeconds: setting(
    'CASEDROP_UPLOAD_NOTICE_WINDOW_SECONDS',
    positiveInt,
    '300',
    'Uploads to one case (any channel but email) within this window after the first become one engineer notice, sent when it ends; a notice counts against `CASEDROP_ENGINEER_NOTICES_PER_CASE_PER_HOUR`, and past that cap waits a digest interval.',
  ),
  uploadRequireEncrypted: setting(
    'CASEDROP_UPLOAD_REQUIRE_ENCRYPTED',
    list.pipe(z.array(z.enum(['https', 'tus', 'sftp', 'scp', 'ftps', 'web']))),
    '',
    'Upload channels that keep only verified encrypted archives, as email does (e.g. `https,tus`); by default an upload over an encrypted channel is kept whatever its content and its verdict recorded.',
  ),
  uploadLoginFailuresPerAddress: setting(
    'CASEDROP_UPLOAD_LOGIN_FAILURES_PER_ADDRESS',
    positiveInt,
    '10',
    'Failed upload logins from one client address within the window before it gets 429.',
  ),
  uploadLoginFailuresPerCase: setting(
    'CASEDROP_UPLOAD_LOGIN_FAILURES_PER_CASE',
    positiveInt,
    '50',
    'Failed upload logins for one case (from any address) within the window before logins to it get 429.',
  ),
  uploadLoginWindowSeconds: setting(
    'CASEDROP_UPLOAD_LOGIN_WINDOW_SECONDS',
    positiveInt,
    '900',
    'Window of the failed-login counts; a blocked client waits until it ends (`Retry-After`).',
  ),

  // device doors of the upload drive: SFTP/SCP (same tokens, limits and intake path as HTTPS)
  sftpHost: setting('CASEDROP_SFTP_HOST', z.string().min(1), '127.0.0.1', 'SFTP/SCP listen address.'),
  sftpPort: setting('CASEDROP_SFTP_PORT', port, '2222', 'SFTP/SCP listen port (22 in production, with OpenSSH moved elsewhere).'),
  sftpHostKeyDir: setting(
    'CASEDROP_SFTP_HOST_KEY_DIR',
    optionalString,
    undefined,
    'Directory of the SSH host keys (Ed25519 and RSA), created on first start with mode 0600; default `<data dir>/ssh`.',
  ),
  sftpLegacyAlgorithms: setting(
    'CASEDROP_SFTP_LEGACY_ALGORITHMS',
    bool,
    'false',
    'Also offer what old network devices need: `diffie-hellman-group14-sha1` key exchange, `ssh-rsa` (SHA-1) host key signatures, AES-CBC and `hmac-sha1`.',
  ),
  sftpMaxConnections: setting('CASEDROP_SFTP_MAX_CONNECTIONS', positiveInt, '100', 'Concurrent SFTP/SCP connections.'),
  ftpsEnabled: setting(
    'CASEDROP_FTPS_ENABLED',
    bool,
    'false',
    'Run the FTPS door (role `ftps`, and in `all`); needs the certificate and key below. Plain FTP is never offered.',
  ),
  ftpsHost: setting('CASEDROP_FTPS_HOST', z.string().min(1), '127.0.0.1', 'FTPS listen address (control and passive data connections).'),
  ftpsPort: setting('CASEDROP_FTPS_PORT', port, '2121', 'Explicit FTPS port (AUTH TLS; 21 in production).'),
  ftpsImplicitPort: setting(
    'CASEDROP_FTPS_IMPLICIT_PORT',
    port.optional(),
    undefined,
    'Implicit FTPS port (TLS from the first byte; 990 in production); unset: none.',
  ),
  ftpsTlsCert: setting('CASEDROP_FTPS_TLS_CERT', optionalString, undefined, 'PEM certificate file of the FTPS door.'),
  ftpsTlsKey: setting('CASEDROP_FTPS_TLS_KEY', optionalString, undefined, 'PEM private key file of the FTPS door.', true),
  ftpsPassivePorts: setting(
    'CASEDROP_FTPS_PASSIVE_PORTS',
    z
      .string()
      .regex(/^\d{1,5}-\d{1,5}$/)
      .transform((s) => {
        const [min, max] = s.split('-').map(Number);
        return { min: min!, max: max! };
      })
      .refine((r) => r.min > 0 && r.min <= r.max && r.max <= 65535, 'a range such as 30000-30100'),
    '30000-30100',
    'Passive data ports `min-max` (open them in the firewall).',
  ),
  ftpsPublicAddress: setting(
    'CASEDROP_FTPS_PUBLIC_ADDRESS',
    optionalString,
    undefined,
    'The address PASV tells clients to connect to, behind NAT; default: the listen address.',
  ),
  driveRetention: setting(
    'CASEDROP_DRIVE_RETENTION',
    z.string().min(1).max(300),
    'Files are kept while the case is open and up to 18 months after it closes.',
    'The retention sentence the SSH banner shows.',
  ),
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof settings;
export type Config = { readonly [K in SettingName]: z.output<(typeof settings)[K]['schema']> };
