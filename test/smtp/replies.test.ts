import { describe, expect, it } from 'vitest';
import { isTemporary, placeholders, replies, replyText, repliesMarkdown, smtpError, type ReplyName } from '../../src/smtp/replies.js';

const names = Object.keys(replies) as ReplyName[];

// What the issue and mail.md ask of each reply: code and enhanced code.
const expected: [ReplyName, number, string][] = [
  ['queued', 250, '2.0.0'],
  ['duplicate', 250, '2.0.0'],
  ['discardedAutomatic', 250, '2.0.0'],
  ['recipientUnknown', 550, '5.1.1'],
  ['subaddressInvalid', 550, '5.1.1'],
  ['tooManyRecipients', 452, '4.5.3'],
  ['postmasterAlone', 452, '4.5.3'],
  ['sizeDeclaredTooBig', 552, '5.3.4'],
  ['sizeExceeded', 552, '5.3.4'],
  ['headerTooBig', 552, '5.3.4'],
  ['bareLineEnding', 550, '5.6.0'],
  ['noCaseNumber', 550, '5.6.0'],
  ['ambiguousCaseNumber', 550, '5.6.0'],
  ['caseUnknown', 550, '5.1.1'],
  ['caseClosed', 550, '5.7.1'],
  // RFC 7372's authentication codes; a DNS failure is RFC 3463's 4.4.3 "directory server failure"
  ['senderNotContact', 550, '5.7.1'],
  ['authSpfFailed', 550, '5.7.23'],
  ['authMultipleFailed', 550, '5.7.26'],
  ['authTemporary', 451, '4.4.3'],
  ['tlsRequired', 530, '5.7.0'],
  ['authRequired', 530, '5.7.0'],
  ['authFailed', 535, '5.7.8'],
  ['tooManyConnections', 421, '4.7.0'],
  ['serverBusy', 421, '4.3.2'],
  ['sessionTooLong', 421, '4.4.2'],
  ['probing', 421, '4.7.0'],
  ['localError', 451, '4.3.0'],
  ['storageFull', 452, '4.3.1'],
  ['queueUnavailable', 451, '4.3.0'],
  ['shuttingDown', 421, '4.3.2'],
];

describe('reply table', () => {
  it.each(expected)('%s is %i %s', (name, code, enhanced) => {
    expect(replies[name].code).toBe(code);
    expect(replies[name].enhanced).toBe(enhanced);
  });

  it('has no reply the list above forgets', () => {
    expect(names.sort()).toEqual(expected.map(([n]) => n).sort());
  });

  it.each(names)('%s: enhanced class matches the reply class and a why is given', (name) => {
    const r = replies[name];
    expect(r.enhanced[0]).toBe(String(r.code)[0]);
    expect(r.enhanced).toMatch(/^[245]\.\d{1,3}\.\d{1,3}$/);
    expect(r.why.length).toBeGreaterThan(10);
    expect(r.text).not.toMatch(/^\d/); // the enhanced code is added once, by replyText
  });

  it('gives every refusal its own text, so a customer can tell them apart', () => {
    const refusals = names.filter((n) => replies[n].code >= 500);
    expect(new Set(refusals.map((n) => replies[n].text)).size).toBe(refusals.length);
    expect(replies.caseUnknown.text).not.toBe(replies.caseClosed.text);
  });
});

describe('replyText', () => {
  it('prefixes the enhanced code exactly once and fills vars', () => {
    expect(replyText('recipientUnknown', { address: 'bob@example.com', intake: 'attach@example.com' })).toBe(
      '5.1.1 <bob@example.com>: no such mailbox here; send files to attach@example.com',
    );
    expect(replyText('queued', { id: 'Q1' })).toBe('2.0.0 queued as Q1');
    expect(replyText('duplicate', { id: 'Q1' })).toBe('2.0.0 already queued as Q1');
    expect(replyText('localError')).toBe('4.3.0 local error, try again later');
  });

  it('shows the expected Subject form when no case number is found, with a configurable example', () => {
    expect(replyText('noCaseNumber')).toBe('5.6.0 no case number found: put the case number in the Subject, e.g. "Case 612345678"');
    expect(replyText('noCaseNumber', { example: 'SR 61234567' })).toContain('e.g. "SR 61234567"');
    expect(replyText('ambiguousCaseNumber', { numbers: '612345678, 712345678' })).toBe(
      '5.6.0 several case numbers found (612345678, 712345678): put exactly one in the Subject, e.g. "Case 612345678"',
    );
  });

  it('keeps a missing var visible instead of throwing', () => {
    expect(replyText('queued')).toBe('2.0.0 queued as {id}');
  });

  it('cannot be made to forge a second reply line or exceed the reply line limit', () => {
    const text = replyText('recipientUnknown', { address: 'a@b\r\n250 2.0.0 ok', intake: 'x'.repeat(1000) });
    expect(text).not.toMatch(/[\r\n]/);
    expect(text.length).toBeLessThan(512 - 4);
  });

  it('fills vars literally ($& and friends are not patterns)', () => {
    expect(replyText('queued', { id: '$&$1' })).toBe('2.0.0 queued as $&$1');
  });

  it('names the placeholders of each text', () => {
    expect(placeholders('recipientUnknown')).toEqual(['address', 'intake']);
    expect(placeholders('localError')).toEqual([]);
  });
});

describe('smtpError', () => {
  it.each(names)("%s carries its code, and smtp-server's line has the enhanced code once", (name) => {
    const err = smtpError(name, {
      id: 'X',
      address: 'a@b',
      intake: 'attach@b',
      max: '10',
      size: '1',
      limit: '2',
      numbers: '1, 2',
      case: '612345678',
      digits: '9',
      sender: 'a@b',
      domain: 'b',
      ip: '192.0.2.1',
      how: 'SPF fail, no DKIM',
      minutes: '10',
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.responseCode).toBe(replies[name].code);
    expect(err.reply).toBe(name);
    const line = `${err.responseCode} ${err.message}`; // what smtp-server writes
    expect(line.startsWith(`${replies[name].code} ${replies[name].enhanced} `)).toBe(true);
    expect(line.split(replies[name].enhanced).length).toBe(2);
    expect(line).not.toMatch(/\{\w+\}/);
  });
});

describe('isTemporary', () => {
  it('is true for 4xx only', () => {
    expect(isTemporary('localError')).toBe(true);
    expect(isTemporary('shuttingDown')).toBe(true);
    expect(isTemporary('caseClosed')).toBe(false);
    expect(isTemporary('queued')).toBe(false);
  });
});

describe('repliesMarkdown', () => {
  it('is a table with one row per reply', () => {
    const lines = repliesMarkdown().split('\n');
    expect(lines[0]).toBe('| code | enhanced | when | text |');
    expect(lines).toHaveLength(names.length + 2);
    expect(lines).toContain(`| 552 | 5.3.4 | ${replies.sizeDeclaredTooBig.why} | \`${replies.sizeDeclaredTooBig.text}\` |`);
    for (const line of lines) expect(line.split(/(?<!\\)\|/)).toHaveLength(6);
  });
});
