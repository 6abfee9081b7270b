/**
 * Is this message automatic (RFC 3834)? The one rule, used by the SMTP door (automatic mail that
 * fails a door check is accepted and discarded instead of refused, since a bounce to an
 * auto-responder or a list can loop) and by the notify stage (no reply to automatic mail).
 * Automatic mail that passes is processed like any other: devices send their diagnostics automatically.
 *
 * Counted as automatic: a null envelope sender; `Auto-Submitted` other than `no` (any value, even
 * empty, since RFC 3834 only exempts `no`); `Precedence: bulk|junk|list|auto_reply`; decided: a
 * `List-Id` too (list traffic, whose bounces go to the list's own robot) and the envelope senders
 * RFC 3834 names as robots: `MAILER-DAEMON`, `owner-*`, `*-request`.
 *
 * Every value is attacker-controlled: it is cut to `MAX_VALUE_CHARS` first and read in one pass.
 */
export interface HeaderLookup {
  get(name: string): string | undefined;
}

/** The kind of robot an envelope sender is, or undefined for anyone else. */
export type RobotSender = 'null-sender' | 'mailer-daemon' | 'owner-alias' | 'request-alias';

// A token of these headers is a few words; anything past this is not part of a verdict.
export const MAX_VALUE_CHARS = 998;

const PRECEDENCE = new Set(['bulk', 'junk', 'list', 'auto_reply']);

export function robotSender(mailFrom: string): RobotSender | undefined {
  const sender = unbracket(mailFrom.slice(0, MAX_VALUE_CHARS)).toLowerCase();
  if (sender === '') return 'null-sender';
  const at = sender.lastIndexOf('@');
  const local = at > 0 ? sender.slice(0, at) : sender;
  if (local === 'mailer-daemon') return 'mailer-daemon';
  if (local.startsWith('owner-')) return 'owner-alias';
  if (local.endsWith('-request')) return 'request-alias';
  return undefined;
}

/** `<a@b>` → `a@b`, trimmed; no regular expression, so no backtracking on a long run of spaces. */
export function unbracket(address: string): string {
  const t = address.trim();
  return t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1).trim() : t;
}

/**
 * A header value's first token, without comments or parameters: `auto-replied (x); foo=bar` →
 * `auto-replied`. RFC 5322 comments nest and may hold quoted pairs; one pass with a depth counter.
 */
export function firstToken(value: string): string {
  const v = value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) : value;
  let out = '';
  let depth = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) out += ' ';
      continue;
    }
    if (c === ';') break;
    if (c === '(') {
      depth = 1;
      out += ' ';
    } else out += c;
  }
  return out.trim().toLowerCase();
}

/** `auto-submitted:<token>`, `precedence:<token>`, `list-id`, or undefined. */
export function automaticHeaderReason(headers: HeaderLookup): string | undefined {
  const auto = headers.get('auto-submitted');
  if (auto !== undefined) {
    const t = firstToken(auto);
    if (t !== 'no') return `auto-submitted:${t || 'empty'}`;
  }
  const precedence = headers.get('precedence');
  if (precedence !== undefined) {
    const t = firstToken(precedence);
    if (PRECEDENCE.has(t)) return `precedence:${t}`;
  }
  if (headers.get('list-id') !== undefined) return 'list-id';
  return undefined;
}

/** Why the message counts as automatic, as a short stable code (for logs), or undefined. */
export function automaticReason(headers: HeaderLookup, mailFrom: string): string | undefined {
  return robotSender(mailFrom) ?? automaticHeaderReason(headers);
}

export function isAutomatic(headers: HeaderLookup, mailFrom: string): boolean {
  return automaticReason(headers, mailFrom) !== undefined;
}

/** The part of a reason code before `:` (`precedence:bulk` → `precedence`). */
export function reasonKind(code: string): string {
  const colon = code.indexOf(':');
  return colon === -1 ? code : code.slice(0, colon);
}
