import { describe, expect, it } from 'vitest';
import { automaticReason, firstToken, robotSender } from '../../src/mail/automatic.js';
import { safeName } from '../../src/notify/words.js';
import { sanitizeFilename } from '../../src/pipeline/filenames.js';
import { parseHeaders } from '../../src/smtp/headers.js';
import { findCaseNumber, stripReplyPrefixes } from '../../src/smtp/subject.js';

/**
 * Every rule that reads a header value (or a name) gets a 1 MB worst case, the input its old
 * version spent minutes on, and must finish within a linear budget: a small multiple of the CPU
 * time a plain linear pass over the same input takes on this machine, measured right before. A
 * quadratic rule on 1 MB is some 10^5 times over that budget, so the factor can be generous and the
 * test does not depend on how fast or busy the machine is.
 */
const MB = 1 << 20;
const FACTOR = 200;
const opts = { digits: 9, prefixes: ['Case', 'SR', 'Service Request'] };

function cpuMicros(fn: () => unknown): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/** The reference: touch every character a few ways, as any linear rule must at least. */
function linearPass(input: string): number {
  let sum = 0;
  for (let i = 0; i < input.length; i++) sum = (sum + input.charCodeAt(i)) | 0;
  return sum + Buffer.byteLength(input) + input.toLowerCase().length + input.normalize('NFC').length;
}

function budgetFor(input: string): number {
  // the best of three, so one descheduled run does not shrink the budget
  return FACTOR * Math.min(...[0, 1, 2].map(() => cpuMicros(() => linearPass(input)))) + 20_000;
}

const attacks: [string, string, (s: string) => unknown][] = [
  ['Subject "Re" + spaces', `Re${' '.repeat(MB)}`, (s) => findCaseNumber(s, opts)],
  ['Subject reply prefixes repeated', 'Re: '.repeat(MB / 4), (s) => stripReplyPrefixes(s)],
  ['Subject "Re [" + digits', `Re [${'1'.repeat(MB)}`, (s) => stripReplyPrefixes(s)],
  ['Subject "Case" + spaces + ":" + spaces', `Case${' '.repeat(MB / 2)}:${' '.repeat(MB / 2)}x`, (s) => findCaseNumber(s, opts)],
  ['Subject of case prefixes', 'Case #'.repeat(MB / 6), (s) => findCaseNumber(s, opts)],
  ['Subject of encoded words', '=?utf-8?q?a?= '.repeat(MB / 14), (s) => findCaseNumber(s, opts)],
  ['Auto-Submitted of "("', '('.repeat(MB), (s) => automaticReason({ get: (n) => (n === 'auto-submitted' ? s : undefined) }, 'a@example.com')],
  [
    'Precedence of "(" then ")"',
    `${'('.repeat(MB / 2)}${')'.repeat(MB / 2)}`,
    (s) => automaticReason({ get: (n) => (n === 'precedence' ? s : undefined) }, 'a@example.com'),
  ],
  ['comment of quoted pairs', `(${'\\('.repeat(MB / 2)}`, (s) => firstToken(s)],
  ['envelope sender of "<" and spaces', `<${' '.repeat(MB)}`, (s) => robotSender(s)],
  ['file name of one letter', 'a'.repeat(MB), (s) => sanitizeFilename(s)],
  ['file name of CJK', `${'日'.repeat(MB / 2)}.7z`, (s) => sanitizeFilename(s)],
  ['file name of dots and spaces', `${'. '.repeat(MB / 2)}x`, (s) => sanitizeFilename(s)],
  ['file name of controls', '\u0000\u202e'.repeat(MB / 2), (s) => sanitizeFilename(s)],
  ['name in a reply', '\u0007'.repeat(MB), (s) => safeName(s)],
  ['header block of one folded field', `Subject: x${'\r\n '.repeat(MB / 3)}`, (s) => parseHeaders(s)],
  ['header block of many fields', 'X-A: b\r\n'.repeat(MB / 8), (s) => parseHeaders(s)],
];

describe('every header and name rule works in linear time on 1 MB', () => {
  it.each(attacks)('%s', (_name, input, rule) => {
    expect(input.length).toBeGreaterThanOrEqual(MB / 2);
    const budget = budgetFor(input);
    const used = cpuMicros(() => rule(input));
    expect(used, `${used} µs of CPU against a linear budget of ${budget} µs`).toBeLessThan(budget);
  });
});
