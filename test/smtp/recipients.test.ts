import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseFromRecipients, classifyRecipient, isPostmaster, subaddress, type RecipientVerdict } from '../../src/smtp/recipients.js';

const intake = ['attach@example.com', 'files@support.example.org', 'drop@xn--bcher-kva.example'] as const;
const opts = { digits: 9 };
const N = '612345678';

const plain = (i: string): RecipientVerdict => ({ accepted: true, intake: i });
const withCase = (i: string, caseNumber = N): RecipientVerdict => ({ accepted: true, intake: i, caseNumber });
const unknown: RecipientVerdict = { accepted: false, reason: 'unknown' };
const bad: RecipientVerdict = { accepted: false, reason: 'badSubaddress' };

describe('classifyRecipient', () => {
  it.each<[string, RecipientVerdict]>([
    ['attach@example.com', plain('attach@example.com')],
    ['ATTACH@example.com', plain('attach@example.com')],
    ['Attach@Example.COM', plain('attach@example.com')],
    ['<attach@example.com>', plain('attach@example.com')],
    [' attach@example.com ', plain('attach@example.com')],
    ['files@support.example.org', plain('files@support.example.org')],
    ['drop@bücher.example', plain('drop@xn--bcher-kva.example')],
    ['drop@BÜCHER.example', plain('drop@xn--bcher-kva.example')],
    [`attach+${N}@example.com`, withCase('attach@example.com')],
    [`ATTACH+${N}@EXAMPLE.com`, withCase('attach@example.com')],
    [`files+${N}@support.example.org`, withCase('files@support.example.org')],
  ])('%s is accepted: %j', (address, expected) => {
    expect(classifyRecipient(address, intake, opts)).toEqual(expected);
  });

  it.each<[string, RecipientVerdict]>([
    ['bob@example.com', unknown],
    ['attach@example.org', unknown],
    ['attach@sub.example.com', unknown],
    ['attach@example.com.', unknown],
    ['attachx@example.com', unknown],
    ['"attach"@example.com', unknown],
    ['attach', unknown],
    ['@example.com', unknown],
    ['attach@', unknown],
    ['', unknown],
    ['postmaster@example.com', unknown],
    [`bob+${N}@example.com`, unknown],
    [`+${N}@example.com`, unknown],
    ['attach+foo@example.com', bad], // decided: after + only a case number
    ['attach+@example.com', bad],
    [`attach+${N}0@example.com`, bad], // ten digits
    ['attach+61234567@example.com', bad], // eight digits
    [`attach+${N}+x@example.com`, bad],
    [`attach+٦١٢٣٤٥٦٧٨@example.com`, bad],
  ])('%s is refused: %j', (address, expected) => {
    expect(classifyRecipient(address, intake, opts)).toEqual(expected);
  });

  it('uses the configured number of digits', () => {
    expect(classifyRecipient('attach+61234567@example.com', intake, { digits: 8 })).toEqual(withCase('attach@example.com', '61234567'));
    expect(classifyRecipient(`attach+${N}@example.com`, intake, { digits: 8 })).toEqual(bad);
  });

  it('defaults to nine digits', () => {
    expect(classifyRecipient(`attach+${N}@example.com`, intake)).toEqual(withCase('attach@example.com'));
  });

  it('accepts an intake address that itself has a + as it is', () => {
    expect(classifyRecipient('in+box@example.com', ['in+box@example.com'], opts)).toEqual(plain('in+box@example.com'));
  });

  it('accepts only what is an intake address or its case sub-address (property)', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        const v = classifyRecipient(address, intake, opts);
        const lower = address.toLowerCase();
        const isIntake = intake.includes(lower as (typeof intake)[number]);
        if (v.accepted) expect(isIntake || /^[a-z]+\+\d{9}@/.test(lower)).toBe(true);
        else expect(isIntake).toBe(false);
      }),
    );
  });
});

describe('caseFromRecipients', () => {
  it.each<[(string | undefined)[], unknown]>([
    [[], { kind: 'none' }],
    [[undefined, undefined], { kind: 'none' }],
    [[N], { kind: 'found', caseNumber: N }],
    [[undefined, N], { kind: 'found', caseNumber: N }],
    [[N, N], { kind: 'found', caseNumber: N }],
    [[N, '712345678'], { kind: 'ambiguous', numbers: [N, '712345678'] }],
  ])('%j → %j', (cases, expected) => {
    expect(caseFromRecipients(cases)).toEqual(expected);
  });
});

describe('subaddress', () => {
  it('puts the case number after the local part, and classifies back', () => {
    expect(subaddress('attach@example.com', N)).toBe(`attach+${N}@example.com`);
    expect(classifyRecipient(subaddress('attach@example.com', N), intake, opts)).toEqual(withCase('attach@example.com'));
  });
});

describe('isPostmaster', () => {
  it.each<[string, boolean]>([
    ['postmaster@example.com', true],
    ['<PostMaster@EXAMPLE.com>', true],
    ['postmaster@support.example.org', true],
    ['postmaster@bücher.example', true],
    ['postmaster', true],
    ['POSTMASTER', true],
    ['postmaster@other.example', false],
    ['postmaster+1@example.com', false],
    ['webmaster@example.com', false],
    ['attach@example.com', false],
  ])('%s → %s', (address, expected) => {
    expect(isPostmaster(address, intake)).toBe(expected);
  });
});
