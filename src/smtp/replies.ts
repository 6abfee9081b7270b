/**
 * Every SMTP reply casedrop sends on its own account, in one table: the reply is the door's user
 * interface, so each refusal carries an RFC 3463 enhanced code and a sentence the customer can act
 * on. The README's reply table is generated from this one (`repliesMarkdown`).
 *
 * The enhanced code is part of each text here. ENHANCEDSTATUSCODES is advertised, and the door's
 * connection class (server.ts) leaves smtp-server's own derived code off any reply whose text
 * already starts with one, so every reply carries exactly one.
 * `{name}` in a text is filled from the vars of `replyText`/`smtpError`; `defaults` fill what the
 * caller leaves out.
 */
interface Reply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
  /** When the door sends it; the README's "when" column. */
  readonly why: string;
  readonly defaults?: Readonly<Record<string, string>>;
}

const example = { example: 'Case 612345678' };

export const replies = {
  queued: {
    code: 250,
    enhanced: '2.0.0',
    text: 'queued as {id}',
    why: 'After DATA, once the message is fsynced in the encrypted spool and its job is in the queue.',
  },
  duplicate: {
    code: 250,
    enhanced: '2.0.0',
    text: 'already queued as {id}',
    why: 'The same message (Message-ID and content hash) arrived again within the dedup window; it is not queued twice.',
  },
  discardedAutomatic: {
    code: 250,
    enhanced: '2.0.0',
    text: 'automatic message accepted and discarded as {id}',
    why: 'Automatic mail (Auto-Submitted, null sender, Precedence bulk/junk/list, List-Id) that fails a check: a refusal could start a bounce loop, so it is dropped with a log line.',
  },
  recipientUnknown: {
    code: 550,
    enhanced: '5.1.1',
    text: '<{address}>: no such mailbox here; send files to {intake}',
    why: 'RCPT to an address that is not an intake address.',
  },
  subaddressInvalid: {
    code: 550,
    enhanced: '5.1.1',
    text: '<{address}>: after the + comes a case number of {digits} digits, e.g. {intake}',
    why: 'RCPT to `local+x@domain` where `x` is not a case number.',
  },
  tooManyRecipients: {
    code: 452,
    enhanced: '4.5.3',
    text: 'too many recipients, at most {max} per message; send the rest in another message',
    why: 'RCPT beyond the per-message limit; the client sends those recipients again later.',
  },
  postmasterAlone: {
    code: 452,
    enhanced: '4.5.3',
    text: 'mail to postmaster travels alone: send it in another message, without intake recipients',
    why: 'RCPT mixing postmaster with intake addresses in one message; the client sends the refused recipient again in its own transaction.',
  },
  sizeDeclaredTooBig: {
    code: 552,
    enhanced: '5.3.4',
    text: 'message too big: {size} bytes declared, the limit is {limit} bytes; split the files over several messages, or upload them (any size) with: curl -T <file> --user <case number>:<upload token from support> {upload}/home/<file>',
    why: "MAIL FROM with `SIZE=` over the limit. The sender's MTA quotes this text in its bounce, so it says where to upload instead.",
    defaults: { upload: 'https://<upload host>' },
  },
  sizeExceeded: {
    code: 552,
    enhanced: '5.3.4',
    text: 'message too big: the limit is {limit} bytes as sent (base64 adds a third); split the files over several messages, or upload them (any size) with: curl -T <file> --user <case number>:<upload token from support> {upload}/home/<file>',
    why: 'After the final dot, when the data passed the limit; nothing is kept.',
    defaults: { upload: 'https://<upload host>' },
  },
  headerTooBig: {
    code: 552,
    enhanced: '5.3.4',
    text: 'message header too big: the header block is limited to {limit} bytes',
    why: 'The header block exceeds its limit before it ends: a size limit, so the size code.',
  },
  bareLineEnding: {
    code: 550,
    enhanced: '5.6.0',
    text: 'message contains a bare CR or LF; every line must end with CRLF',
    why: 'A bare CR or LF in the data (SMTP smuggling material), when bare line endings are refused.',
  },
  noCaseNumber: {
    code: 550,
    enhanced: '5.6.0',
    text: 'no case number found: put the case number in the Subject, e.g. "{example}"',
    why: 'Neither a sub-address nor the Subject names a case.',
    defaults: example,
  },
  ambiguousCaseNumber: {
    code: 550,
    enhanced: '5.6.0',
    text: 'several case numbers found ({numbers}): put exactly one in the Subject, e.g. "{example}"',
    why: 'The Subject (or the recipients) name more than one case.',
    defaults: example,
  },
  caseUnknown: {
    code: 550,
    enhanced: '5.1.1',
    text: 'case {case} does not exist; check the number in the Subject or address',
    why: 'The case named is not in the registry: the case is the destination, so "bad destination" whether it came from the address or the Subject.',
  },
  caseClosed: {
    code: 550,
    enhanced: '5.7.1',
    text: 'case {case} is closed and takes no more files; ask support to reopen it',
    why: 'The case exists but is closed: a policy refusal.',
  },
  senderNotContact: {
    code: 550,
    enhanced: '5.7.1',
    text: 'case {case} takes mail only from its known senders, and <{sender}> is not one; ask your support engineer to add your address',
    why: 'The case has contacts (`casedrop case contact add`) and the envelope sender is none of them.',
  },
  authSpfFailed: {
    code: 550,
    enhanced: '5.7.23',
    text: 'SPF check failed: {domain} does not allow {ip} to send its mail; send through your own mail server, or sign the mail with DKIM for {domain}',
    why: '`CASEDROP_AUTH_POLICY=require`: SPF failed for the envelope sender and no DKIM signature was there to make up for it (RFC 7372).',
  },
  authMultipleFailed: {
    code: 550,
    enhanced: '5.7.26',
    text: 'sender not authenticated ({how}); sign the mail with DKIM for {domain} or send it from a server its SPF record lists',
    why: '`CASEDROP_AUTH_POLICY=require`: neither SPF nor an aligned DKIM signature nor DMARC vouches for the envelope sender (RFC 7372: multiple checks failed).',
  },
  authTemporary: {
    code: 451,
    enhanced: '4.4.3',
    text: "could not check the sender's SPF, DKIM or DMARC records (DNS did not answer), try again later",
    why: '`CASEDROP_AUTH_POLICY=require` and a DNS look-up timed out or failed for now: temporary, never a 5xx.',
  },
  tlsRequired: {
    code: 530,
    enhanced: '5.7.0',
    text: 'must issue a STARTTLS command first',
    why: 'MAIL before STARTTLS when TLS is required.',
  },
  authRequired: {
    code: 530,
    enhanced: '5.7.0',
    text: 'authentication required',
    why: 'MAIL before AUTH when relay credentials are configured.',
  },
  authFailed: {
    code: 535,
    enhanced: '5.7.8',
    text: 'authentication credentials invalid',
    why: 'AUTH with a wrong user or password.',
  },
  tooManyConnections: {
    code: 421,
    enhanced: '4.7.0',
    text: 'too many connections from your address, try again later',
    why: 'A client IP (or its network, a /24 or /48) over its concurrent-connection limit.',
  },
  serverBusy: {
    code: 421,
    enhanced: '4.3.2',
    text: 'server busy: too many connections in total, try again later',
    why: 'Every connection slot is taken (`CASEDROP_SMTP_MAX_CONNECTIONS`): the server is busy, not the client at fault.',
  },
  sessionTooLong: {
    code: 421,
    enhanced: '4.4.2',
    text: 'session too long, closing; send the rest in a new connection',
    why: 'A session older than `CASEDROP_SMTP_SESSION_TIMEOUT_MS`, however busy: a trickling client frees its slot.',
  },
  probing: {
    code: 421,
    enhanced: '4.7.0',
    text: 'too many messages for unknown case numbers from your address; try again in {minutes} minutes',
    why: 'A client that got `CASEDROP_SMTP_PROBE_BLOCK_AFTER` "case does not exist" replies within `CASEDROP_SMTP_PROBE_WINDOW_SECONDS` (case-number probing); refused until the window ends.',
  },
  localError: {
    code: 451,
    enhanced: '4.3.0',
    text: 'local error, try again later',
    why: 'Any failure not classified otherwise; never a 5xx, so the sender retries and nothing is lost.',
  },
  storageFull: {
    code: 452,
    enhanced: '4.3.1',
    text: 'insufficient system storage, try again later',
    why: 'The spool disk is full.',
  },
  queueUnavailable: {
    code: 451,
    enhanced: '4.3.0',
    text: 'queue unavailable, try again later',
    why: 'Redis (the case registry or the queue) does not answer; the spool object is removed.',
  },
  shuttingDown: {
    code: 421,
    enhanced: '4.3.2',
    text: 'service shutting down, try again later',
    why: 'New connections and commands after SIGTERM.',
  },
} as const satisfies Record<string, Reply>;

export type ReplyName = keyof typeof replies;

const table: Record<ReplyName, Reply> = replies;

/** Names of the `{placeholders}` in a reply text, in order. */
export function placeholders(name: ReplyName): string[] {
  return [...table[name].text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

// A var may come from the client (an address): a CR or LF would end the reply line and forge the
// next one, and a reply line is limited to 512 octets (RFC 5321 4.5.3.1.5).
function clean(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const flat = value.replace(/[\x00-\x1f\x7f]+/g, ' ');
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

/**
 * The reply text with its enhanced code in front, e.g.
 * `5.1.1 <x@example.com>: no such mailbox here; send files to attach@example.com`.
 * A var neither given nor defaulted stays visible as `{name}`: a visibly incomplete reply beats an
 * exception on a refusal path, which smtp-server would turn into a reply without our code.
 */
export function replyText(name: ReplyName, vars: Record<string, string> = {}): string {
  const reply = table[name];
  const all: Record<string, string> = { ...reply.defaults, ...vars };
  const text = reply.text.replace(/\{(\w+)\}/g, (whole, key: string) => (Object.hasOwn(all, key) ? clean(all[key]!) : whole));
  return `${reply.enhanced} ${text}`;
}

export type SmtpError = Error & { responseCode: number; reply: ReplyName };

/** An error for smtp-server's callbacks: it answers `${responseCode} ${message}`. */
export function smtpError(name: ReplyName, vars?: Record<string, string>): SmtpError {
  return Object.assign(new Error(replyText(name, vars)), { responseCode: replies[name].code, reply: name });
}

/** True for the 4xx replies: the sender's MTA keeps the message and tries again. */
export function isTemporary(name: ReplyName): boolean {
  return replies[name].code >= 400 && replies[name].code < 500;
}

/** The README table: one row per reply, in table order. */
export function repliesMarkdown(): string {
  const rows = (Object.keys(table) as ReplyName[]).map((name) => {
    const r = table[name];
    const cell = (s: string) => s.replace(/\|/g, '\\|');
    return `| ${r.code} | ${r.enhanced} | ${cell(r.why)} | \`${cell(r.text)}\` |`;
  });
  return ['| code | enhanced | when | text |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
