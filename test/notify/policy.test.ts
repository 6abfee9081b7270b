import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/jobs/types.js';
import { decideSenderReply, headerLookup, senderAddressReason, type PolicyConfig } from '../../src/notify/policy.js';
import { makeOutcome, REFUSED_TXT } from './helpers.js';

/** The sender-reply decision, table-driven, without Redis or sockets. */
const config: PolicyConfig = { intakeAddresses: ['attach@localhost', 'files@casedrop.example'], replyFrom: 'noreply@casedrop.example', receipts: true };
const decide = (o: Partial<Outcome>, c: PolicyConfig = config) => decideSenderReply(makeOutcome(o), c);

describe('which reply', () => {
  it.each([
    ['stored', { kind: 'stored' }, { send: 'receipt' }],
    ['partial', { kind: 'partial', refused: [REFUSED_TXT] }, { send: 'dsn' }],
    ['refused', { kind: 'refused', stored: [], refused: [REFUSED_TXT] }, { send: 'dsn' }],
    ['no attachment', { kind: 'no-attachment', stored: [] }, { send: 'dsn' }],
    ['case closed', { kind: 'case-closed', stored: [] }, { send: 'dsn' }],
  ] as [string, Partial<Outcome>, object][])('%s → %j', (_n, o, expected) => {
    expect(decide(o)).toEqual(expected);
  });

  it('no receipt when receipts are off, but a DSN still', () => {
    expect(decide({ kind: 'stored' }, { ...config, receipts: false })).toEqual({ suppress: 'receipts-off' });
    expect(decide({ kind: 'refused', stored: [], refused: [REFUSED_TXT] }, { ...config, receipts: false })).toEqual({ send: 'dsn' });
  });

  it('loop rules win over the reply kind', () => {
    expect(decide({ kind: 'case-closed', mailFrom: '' })).toEqual({ suppress: 'null-sender' });
  });
});

describe('sender addresses never answered', () => {
  it.each([
    ['', 'null-sender'],
    ['<>', 'null-sender'],
    ['  <>  ', 'null-sender'],
    ['not-an-address', 'invalid-sender'],
    ['@example.com', 'invalid-sender'],
    ['a@', 'invalid-sender'],
    ['attach@localhost', 'own-address'],
    ['<ATTACH@LOCALHOST>', 'own-address'],
    ['attach+612345678@localhost', 'own-address'],
    ['files@casedrop.example', 'own-address'],
    ['noreply@casedrop.example', 'own-address'],
    ['MAILER-DAEMON@mx.example.com', 'mailer-daemon'],
    ['mailer-daemon@mx.example.com', 'mailer-daemon'],
    ['owner-support@lists.example.com', 'owner-alias'],
    ['support-request@lists.example.com', 'request-alias'],
  ])('%j → %s', (address, reason) => {
    expect(senderAddressReason(address, config)).toBe(reason);
  });

  it.each([
    'customer@example.com',
    '<Customer@Example.com>',
    'attach@otherhost',
    'owner@example.com',
    'request@example.com',
    'daemon@example.com',
    'x+attach@localhost',
  ])('%j is answered', (address) => {
    expect(senderAddressReason(address, config)).toBeUndefined();
  });
});

describe('automatic mail, from the header block', () => {
  const block = (...lines: string[]) => ['From: a@example.com', 'Subject: Case 612345678', ...lines].join('\r\n');

  it.each([
    [block('Auto-Submitted: auto-replied'), 'auto-submitted'],
    [block('auto-submitted: Auto-Notified'), 'auto-submitted'],
    [block('Auto-Submitted: auto-generated;', ' owner-email="x@example.com"'), 'auto-submitted'],
    [block('Precedence: bulk'), 'precedence'],
    [block('Precedence: JUNK'), 'precedence'],
    [block('Precedence: list'), 'precedence'],
    // the same rule as the door's: auto_reply counts here too
    [block('Precedence: auto_reply'), 'precedence'],
    [block('List-Id: <support.lists.example.com>'), 'list-id'],
    [block('List-ID: Support', ' <support.lists.example.com>'), 'list-id'],
  ])('%j → %s', (originalHeaders, reason) => {
    expect(decide({ originalHeaders })).toEqual({ suppress: reason });
  });

  it.each([
    block('Auto-Submitted: no'),
    block('Auto-Submitted: No (a (nested) comment)'),
    block('Precedence: first-class'),
    block('List-Unsubscribe-Post: x'),
    '',
    block(),
  ])('%j is answered', (originalHeaders) => {
    expect(decide({ originalHeaders })).toEqual({ send: 'receipt' });
  });

  it("the door's own verdict counts even without headers", () => {
    expect(decide({ automatic: true, originalHeaders: '' })).toEqual({ suppress: 'automatic' });
  });

  it('reads folded values and ignores a body-like tail', () => {
    const lookup = headerLookup('Auto-Submitted:\r\n auto-replied\r\nPrecedence: bulk');
    expect([lookup.get('auto-submitted'), lookup.get('precedence'), lookup.get('list-id')]).toEqual(['auto-replied', 'bulk', undefined]);
  });
});
