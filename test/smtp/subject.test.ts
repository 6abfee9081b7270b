import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseExample, decodeSubject, findCaseNumber, stripReplyPrefixes, type CaseFinding } from '../../src/smtp/subject.js';

const opts = { digits: 9, prefixes: ['Case', 'SR', 'Service Request'] } as const;
const N = '612345678';
const M = '712345678';
const found = (caseNumber = N): CaseFinding => ({ kind: 'found', caseNumber });
const none: CaseFinding = { kind: 'none' };

describe('findCaseNumber: the forms of the issue', () => {
  it.each<[string, CaseFinding]>([
    [`Case ${N}`, found()],
    [`SR ${N}`, found()],
    [`SR#${N}`, found()],
    [`[SR ${N}]`, found()],
    [`case: ${N}`, found()],
    [`Service Request ${N}`, found()],
    [`Case #${N}`, found()],
    [`Case-${N}`, found()],
    [`Case - ${N}`, found()],
    [`Case: #${N}`, found()],
    [`SR# ${N}`, found()],
    [`CASE ${N}`, found()],
    [`service   request\t${N}`, found()],
    [`Case${N}`, found()], // decided: the prefix word alone makes it explicit
    [`Logs for Case ${N}, please`, found()],
    [`Logs (SR ${N})`, found()],
    [`Case ${N}: logs`, found()],
    [`Case ${N}.`, found()],
  ])('%j → %j', (subject, expected) => {
    expect(findCaseNumber(subject, opts)).toEqual(expected);
  });
});

describe('findCaseNumber: reply and forward prefixes', () => {
  it.each(['RE:', 'Re:', 'FW:', 'Fwd:', 'FWD:', 'AW:', 'WG:', 'TR:', 'SV:', 'VS:', 'R:', 'RIF:', 'RE[2]:', 'Re: Fwd: AW:', 're:re:RE :'])(
    '%s Case …',
    (prefix) => {
      expect(findCaseNumber(`${prefix} Case ${N}`, opts)).toEqual(found());
      expect(stripReplyPrefixes(`${prefix} Case ${N}`)).toBe(`Case ${N}`);
    },
  );

  it('leaves a subject without reply prefixes alone', () => {
    expect(stripReplyPrefixes(`Case: ${N}`)).toBe(`Case: ${N}`);
    expect(stripReplyPrefixes(`Revision ${N}`)).toBe(`Revision ${N}`);
  });
});

describe('findCaseNumber: what is not a case number', () => {
  it.each<[string | undefined, CaseFinding]>([
    [undefined, none],
    ['', none],
    ['   ', none],
    ['Logs attached', none],
    [N, none], // decided: a bare number without a prefix word is refused; the reply shows the form
    [`Logs ${N}`, none],
    [`Case ${N}0`, none], // ten digits
    [`Case 61234567`, none], // eight digits
    [`Case ${N}abc`, none], // not at a word boundary
    [`Showcase ${N}`, none], // the prefix inside another word
    [`CSR ${N}`, none],
    [`SRA ${N}`, none],
    [`Cases ${N}`, none],
    [`Case_${N}`, none],
    [`Case 612 345 678`, none],
    [`Case ٦١٢٣٤٥٦٧٨`, none], // Arabic-Indic digits are not ASCII case numbers
    [`Case ${N}٣`, none],
  ])('%j → %j', (subject, expected) => {
    expect(findCaseNumber(subject, opts)).toEqual(expected);
  });
});

describe('findCaseNumber: several numbers', () => {
  it.each<[string, CaseFinding]>([
    [`Case ${N} and SR ${N}`, found()],
    [`[SR ${N}] Re: [SR ${N}]`, found()],
    [`Case ${N} and Case ${M}`, { kind: 'ambiguous', numbers: [N, M] }],
    [`SR#${M} / Case ${N} / SR ${M}`, { kind: 'ambiguous', numbers: [M, N] }],
    [`Case ${N} order 712345678`, found()], // only prefixed numbers count
    [`Case ${N}0 and Case ${M}`, found(M)], // the ten-digit one does not count
  ])('%j → %j', (subject, expected) => {
    expect(findCaseNumber(subject, opts)).toEqual(expected);
  });
});

describe('findCaseNumber: configuration', () => {
  it('uses the configured number of digits', () => {
    const eight = { digits: 8, prefixes: ['Case'] };
    expect(findCaseNumber('Case 61234567', eight)).toEqual(found('61234567'));
    expect(findCaseNumber(`Case ${N}`, eight)).toEqual(none);
  });

  it('uses the configured prefixes, escaped, multi-word with any spacing', () => {
    const custom = { digits: 9, prefixes: ['Ticket', 'Vorgang Nr.', 'C++'] };
    expect(findCaseNumber(`Ticket ${N}`, custom)).toEqual(found());
    expect(findCaseNumber(`Vorgang  Nr. ${N}`, custom)).toEqual(found());
    expect(findCaseNumber(`Vorgang Nrx ${N}`, custom)).toEqual(none);
    expect(findCaseNumber(`C++ ${N}`, custom)).toEqual(found());
    expect(findCaseNumber(`Case ${N}`, custom)).toEqual(none);
  });

  it('makes the refusal example from the configuration', () => {
    expect(caseExample(opts)).toBe('Case 612345678');
    expect(caseExample({ digits: 12, prefixes: ['SR'] })).toBe('SR 612345678612');
    expect(findCaseNumber(caseExample({ digits: 12, prefixes: ['SR'] }), { digits: 12, prefixes: ['SR'] }).kind).toBe('found');
  });
});

describe("findCaseNumber: MIME encoded-words made by Python's email package", () => {
  interface Entry {
    name: string;
    raw: string;
    decoded: string;
    ianaLabel: boolean;
    expect: CaseFinding;
  }
  const { entries } = JSON.parse(readFileSync('fixtures/smtp/subjects.json', 'utf8')) as { entries: Entry[] };

  it('has the fixtures', () => {
    expect(entries.length).toBeGreaterThan(20);
    expect(entries.every((e) => e.raw.includes('=?') || e.expect.kind !== 'found')).toBe(true);
  });

  // The header reader hands over the value unfolded; the raw folded form must work as well.
  const unfold = (raw: string) => raw.replace(/\r\n[ \t]+/g, ' ');

  it.each(entries.map((e) => [e.name, e] as const))('%s', (_name, e) => {
    expect(findCaseNumber(e.raw, opts)).toEqual(e.expect);
    expect(findCaseNumber(unfold(e.raw), opts)).toEqual(e.expect);
    if (e.ianaLabel) expect(decodeSubject(unfold(e.raw))).toBe(e.decoded.normalize('NFKC'));
  });

  it('would not find the number without decoding (the fixtures test the decoder)', () => {
    const hidden = entries.filter((e) => e.expect.kind === 'found' && !findRaw(e.raw));
    expect(hidden.length).toBeGreaterThan(10);
  });
});

function findRaw(raw: string): boolean {
  return new RegExp(`(Case|SR|Service Request)\\s*[:#-]?\\s*#?${N}`, 'i').test(raw);
}

describe('findCaseNumber: properties', () => {
  const filler = fc.stringMatching(/^[a-zäöü ,.;()[\]!?—-]{0,30}$/);

  it('finds a prefixed number wherever it stands in surrounding words', () => {
    fc.assert(
      fc.property(filler, filler, fc.constantFrom('Case ', 'SR#', '[SR ', 'case: ', 'Service Request '), (before, after, form) => {
        const subject = `${before} ${form}${N} ${after}`;
        expect(findCaseNumber(subject, opts)).toEqual(found());
      }),
    );
  });

  it('never answers found for a number of the wrong length', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{0,14}$/), filler, (digits, rest) => {
        fc.pre(digits.length !== 9);
        expect(findCaseNumber(`Case ${digits} ${rest}`, opts)).toEqual(none);
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        expect(['found', 'none', 'ambiguous']).toContain(findCaseNumber(s, opts).kind);
      }),
    );
  });
});
