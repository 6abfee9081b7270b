import { describe, expect, it } from 'vitest';
import { automaticReason, isAutomatic, type HeaderLookup } from '../../src/mail/automatic.js';

function headers(fields: Record<string, string> = {}): HeaderLookup {
  const map = new Map(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name) => map.get(name.toLowerCase()) };
}

const human = 'customer@example.com';

describe('automaticReason', () => {
  it.each<[string, Record<string, string>, string, string | undefined]>([
    ['a person', {}, human, undefined],
    ['a person saying Auto-Submitted: no', { 'Auto-Submitted': 'no' }, human, undefined],
    ['Auto-Submitted: No (with a comment)', { 'Auto-Submitted': 'No (human)' }, human, undefined],
    ['Precedence: first-class', { Precedence: 'first-class' }, human, undefined],
    ['null sender as the empty string (smtp-server)', {}, '', 'null-sender'],
    ['null sender as <>', {}, '<>', 'null-sender'],
    ['null sender < >', {}, '< >', 'null-sender'],
    ['Auto-Submitted: auto-replied', { 'Auto-Submitted': 'auto-replied' }, human, 'auto-submitted:auto-replied'],
    ['Auto-Submitted: auto-generated', { 'Auto-Submitted': 'auto-generated' }, human, 'auto-submitted:auto-generated'],
    ['Auto-Submitted: Auto-Notified; owner-email="x@y"', { 'Auto-Submitted': 'Auto-Notified; owner-email="x@y"' }, human, 'auto-submitted:auto-notified'],
    ['Auto-Submitted empty', { 'Auto-Submitted': '' }, human, 'auto-submitted:empty'],
    ['Precedence: bulk', { Precedence: 'bulk' }, human, 'precedence:bulk'],
    ['Precedence: JUNK', { Precedence: 'JUNK' }, human, 'precedence:junk'],
    ['Precedence: list', { Precedence: 'list' }, human, 'precedence:list'],
    ['Precedence: auto_reply', { Precedence: 'auto_reply' }, human, 'precedence:auto_reply'],
    ['List-Id', { 'List-Id': '<users.lists.example.com>' }, human, 'list-id'],
    ['MAILER-DAEMON sender', {}, 'MAILER-DAEMON@mx.example.com', 'mailer-daemon'],
    ['owner- sender', {}, 'owner-users@lists.example.com', 'owner-alias'],
    ['-request sender', {}, 'users-request@lists.example.com', 'request-alias'],
    ['null sender wins over headers', { 'Auto-Submitted': 'auto-replied' }, '', 'null-sender'],
  ])('%s', (_name, fields, mailFrom, expected) => {
    expect(automaticReason(headers(fields), mailFrom)).toBe(expected);
    expect(isAutomatic(headers(fields), mailFrom)).toBe(expected !== undefined);
  });

  it('does not mistake look-alike senders for robots', () => {
    expect(isAutomatic(headers(), 'daemon@example.com')).toBe(false);
    expect(isAutomatic(headers(), 'request-desk@example.com')).toBe(false);
    expect(isAutomatic(headers(), 'the-owner@example.com')).toBe(false);
  });
});
