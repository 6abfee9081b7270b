/**
 * Is this message automatic (RFC 3834)? Automatic mail that fails a door check is accepted and
 * discarded instead of refused: a refusal makes the sending MTA bounce it, and a bounce to an
 * auto-responder or a list can loop. Automatic mail that passes is processed like any other —
 * devices send their diagnostics automatically.
 *
 * Counted as automatic: a null envelope sender; `Auto-Submitted` other than `no` (any value, even
 * empty, since RFC 3834 only exempts `no`); `Precedence: bulk|junk|list|auto_reply`; decided: a
 * `List-Id` too (list traffic, whose bounces go to the list's own robot) and the envelope senders
 * RFC 3834 names as robots: `MAILER-DAEMON`, `owner-*`, `*-request`.
 */
export interface HeaderLookup {
  get(name: string): string | undefined;
}

const PRECEDENCE = new Set(['bulk', 'junk', 'list', 'auto_reply']);

function envelopeReason(mailFrom: string): string | undefined {
  const sender = mailFrom.trim().replace(/^<(.*)>$/, '$1').trim();
  if (sender === '') return 'null-sender';
  const local = sender.slice(0, Math.max(0, sender.lastIndexOf('@'))).toLowerCase() || sender.toLowerCase();
  if (local === 'mailer-daemon') return 'sender:mailer-daemon';
  if (local.startsWith('owner-')) return 'sender:owner-';
  if (local.endsWith('-request')) return 'sender:-request';
  return undefined;
}

// A header value's first token, without comments or parameters: `auto-replied; foo=bar` → `auto-replied`.
function token(value: string): string {
  return value.replace(/\([^)]*\)/g, ' ').split(';')[0]!.trim().toLowerCase();
}

function headerReason(headers: HeaderLookup): string | undefined {
  const auto = headers.get('auto-submitted');
  if (auto !== undefined && token(auto) !== 'no') return `auto-submitted:${token(auto) || 'empty'}`;
  const precedence = headers.get('precedence');
  if (precedence !== undefined && PRECEDENCE.has(token(precedence))) return `precedence:${token(precedence)}`;
  if (headers.get('list-id') !== undefined) return 'list-id';
  return undefined;
}

/** Why the message counts as automatic, for the log line (a short stable code), or undefined. */
export function automaticReason(headers: HeaderLookup, mailFrom: string): string | undefined {
  return envelopeReason(mailFrom) ?? headerReason(headers);
}

export function isAutomatic(headers: HeaderLookup, mailFrom: string): boolean {
  return automaticReason(headers, mailFrom) !== undefined;
}
