import libmime from 'libmime';
import { exampleCaseNumber } from '../cases/number.js';

/**
 * Finding the case number in a Subject, as customers and their mail clients write it.
 *
 * Accepted: a configured prefix word, an optional separator, the number — `Case 612345678`,
 * `SR 612345678`, `SR#612345678`, `[SR 612345678]`, `case: 612345678`, `Case #612345678`,
 * `Case-612345678`, `Case612345678`, `Service Request 612345678` — at word boundaries, in any case.
 * Decided: a bare number without a prefix word is not a case number (subjects carry phone, order
 * and invoice numbers); the refusal text shows the form instead. A number of another length is
 * not a case number either, so `Case 6123456789` alone is `none`.
 */
export type CaseFinding = { kind: 'found'; caseNumber: string } | { kind: 'none' } | { kind: 'ambiguous'; numbers: string[] };

export interface SubjectOptions {
  digits: number;
  prefixes: readonly string[];
}

// Reply and forward markers of common clients (English, German, French, Nordic, Italian), any number
// of them, with Outlook's counted `RE[2]:` form. Read by a scanner, not a regular expression: the
// pattern this replaces backtracked quadratically on "Re" followed by a long run of spaces.
const REPLY_WORDS = new Set(['re', 'fw', 'fwd', 'aw', 'wg', 'tr', 'sv', 'vs', 'r', 'rif']);

/** Beyond this many characters a Subject is not searched: a case number sits near its start. */
export const MAX_SUBJECT_CHARS = 4096;
/** The Subject with MIME encoded-words decoded (libmime: split words, any charset) and NFKC applied. */
export function decodeSubject(raw: string): string {
  let text: string;
  try {
    text = libmime.decodeWords(raw);
  } catch {
    text = raw; // undecodable words: search what is there rather than fail the message
  }
  // NFKC turns full-width digits and letters (common from East Asian input methods) into ASCII.
  return text.normalize('NFKC');
}

export function stripReplyPrefixes(subject: string): string {
  let at = 0;
  for (;;) {
    const next = replyMarkerEnd(subject, at);
    if (next === -1) return at === 0 ? subject : subject.slice(skipSpaces(subject, at));
    at = next;
  }
}

/** Where one `<spaces>word<spaces>[n]<spaces>:` marker starting at `from` ends, or -1. Linear in what it reads. */
function replyMarkerEnd(s: string, from: number): number {
  let i = skipSpaces(s, from);
  const wordStart = i;
  while (i < s.length && i - wordStart < 4 && isAsciiLetter(s.charCodeAt(i))) i++;
  if (!REPLY_WORDS.has(s.slice(wordStart, i).toLowerCase())) return -1;
  i = skipSpaces(s, i);
  if (s[i] === '[') {
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) j++;
    if (j === i + 1 || s[j] !== ']') return -1;
    i = skipSpaces(s, j + 1);
  }
  return s[i] === ':' ? i + 1 : -1;
}

function skipSpaces(s: string, from: number): number {
  let i = from;
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return i;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Prefix words, then optional `:`, `#` or `-` with spaces, then digits, then no letter or digit. */
export function casePattern(prefixes: readonly string[]): RegExp {
  const words = [...prefixes].sort((a, b) => b.length - a.length).map((p) => p.trim().split(/\s+/).map(escapeRegExp).join('\\s+'));
  const prefix = `(?:${words.join('|')})`;
  return new RegExp(`(?<![\\p{L}\\p{N}_])${prefix}\\s*(?:[:#-]\\s*)?(?:#\\s*)?(\\p{Nd}+)(?![\\p{L}\\p{N}_])`, 'giu');
}

export function findCaseNumber(subject: string | undefined, opts: SubjectOptions): CaseFinding {
  if (subject === undefined || subject.trim() === '') return { kind: 'none' };
  const text = stripReplyPrefixes(decodeSubject(subject.slice(0, MAX_SUBJECT_CHARS)));
  const found = new Set<string>();
  for (const m of text.matchAll(casePattern(opts.prefixes))) {
    const digits = m[1]!;
    if (digits.length === opts.digits && /^[0-9]+$/.test(digits)) found.add(digits);
  }
  return verdict([...found]);
}

export function verdict(numbers: readonly string[]): CaseFinding {
  const unique = [...new Set(numbers)];
  if (unique.length === 0) return { kind: 'none' };
  if (unique.length === 1) return { kind: 'found', caseNumber: unique[0]! };
  return { kind: 'ambiguous', numbers: unique };
}

/** The form to show in a refusal, from the configuration: `Case 612345678`. */
export function caseExample(opts: SubjectOptions): string {
  return `${opts.prefixes[0] ?? 'Case'} ${exampleCaseNumber(opts.digits)}`;
}
