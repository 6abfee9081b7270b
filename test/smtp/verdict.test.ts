import { describe, expect, it } from 'vitest';
import { ConnectionCounter } from '../../src/smtp/connections.js';
import type { CaseFinding } from '../../src/smtp/subject.js';
import { caseRefusal, contentVerdict, transmissionProtocol, type CaseLookup, type ContentFacts } from '../../src/smtp/verdict.js';

/** The door's pure decisions, without sockets. */
const limits = { maxMessageBytes: 100, maxHeaderBytes: 10 };
const clean: ContentFacts = { sizeExceeded: false, headerTooBig: false, bareLineEnding: false, automatic: false, limits };
const wording = { example: 'Case 612345678' };

describe('caseRefusal', () => {
  it.each<[CaseFinding, CaseLookup | undefined, string]>([
    [{ kind: 'none' }, undefined, 'noCaseNumber'],
    [{ kind: 'ambiguous', numbers: ['1', '2'] }, undefined, 'ambiguousCaseNumber'],
    [{ kind: 'found', caseNumber: '612345678' }, 'missing', 'caseUnknown'],
    [{ kind: 'found', caseNumber: '612345678' }, 'closed', 'caseClosed'],
  ])('%j with the registry saying %s → %s', (finding, lookup, name) => {
    expect(caseRefusal(finding, lookup, wording)?.name).toBe(name);
  });

  it('an open case is no refusal', () => {
    expect(caseRefusal({ kind: 'found', caseNumber: '612345678' }, 'open', wording)).toBeUndefined();
  });

  it('fills the texts: the numbers found, the case, the example', () => {
    expect(caseRefusal({ kind: 'ambiguous', numbers: ['612345678', '612345679'] }, undefined, wording)?.vars).toEqual({
      numbers: '612345678, 612345679',
      example: 'Case 612345678',
    });
    expect(caseRefusal({ kind: 'found', caseNumber: '612345678' }, 'closed', wording)?.vars).toEqual({ case: '612345678' });
  });
});

describe('contentVerdict', () => {
  const noCase = caseRefusal({ kind: 'none' }, undefined, wording);

  it('accepts when every check passed', () => {
    expect(contentVerdict(clean)).toEqual({ kind: 'accept' });
  });

  it('size first, then header size, then bare line endings, then the case', () => {
    const all = { ...clean, sizeExceeded: true, headerTooBig: true, bareLineEnding: true, caseRefusal: noCase };
    expect(contentVerdict(all)).toMatchObject({ kind: 'refuse', refusal: { name: 'sizeExceeded', vars: { limit: '100' } } });
    expect(contentVerdict({ ...all, sizeExceeded: false })).toMatchObject({ refusal: { name: 'headerTooBig', vars: { limit: '10' } } });
    expect(contentVerdict({ ...all, sizeExceeded: false, headerTooBig: false })).toMatchObject({ refusal: { name: 'bareLineEnding' } });
    expect(contentVerdict({ ...clean, caseRefusal: noCase })).toMatchObject({ refusal: { name: 'noCaseNumber' } });
  });

  it('automatic mail that fails any check is discarded, naming the check', () => {
    for (const facts of [{ sizeExceeded: true }, { headerTooBig: true }, { bareLineEnding: true }, { caseRefusal: noCase }]) {
      const v = contentVerdict({ ...clean, ...facts, automatic: true });
      expect(v.kind).toBe('discard');
    }
    expect(contentVerdict({ ...clean, automatic: true })).toEqual({ kind: 'accept' });
  });
});

it('transmissionProtocol names the Received protocol (RFC 3848)', () => {
  expect(transmissionProtocol({ lmtp: false, secure: false, authenticated: false })).toBe('ESMTP');
  expect(transmissionProtocol({ lmtp: false, secure: true, authenticated: true })).toBe('ESMTPSA');
  expect(transmissionProtocol({ lmtp: true, secure: true, authenticated: false })).toBe('LMTP');
});

describe('ConnectionCounter', () => {
  it('limits per address and in total, and frees a slot only for an admitted session', () => {
    const c = new ConnectionCounter(3, 2);
    expect(['a', 'b', 'c'].map((id) => c.admit(id, '192.0.2.1'))).toEqual(['ok', 'ok', 'perIp']);
    expect(c.admit('d', '192.0.2.2')).toBe('ok');
    expect(c.admit('e', '192.0.2.3')).toBe('total');
    c.release('c'); // refused: nothing to free
    expect(c.admit('f', '192.0.2.3')).toBe('total');
    c.release('a');
    expect(c.admit('g', '192.0.2.1')).toBe('ok');
    expect(c.size).toBe(3);
  });

  it('limits one network (IPv4 /24, IPv6 /48) as well, so a few neighbouring addresses cannot take every slot', () => {
    const c = new ConnectionCounter(100, 2, 3);
    expect(['192.0.2.1', '192.0.2.1', '192.0.2.2', '192.0.2.3'].map((ip, i) => c.admit(String(i), ip))).toEqual(['ok', 'ok', 'ok', 'perNet']);
    expect(c.admit('x', '198.51.100.1')).toBe('ok');
    expect(['2001:db8:1:1::1', '2001:db8:1:2::1', '2001:db8:1:3::1', '2001:db8:1:4::1'].map((ip, i) => c.admit(`v6-${i}`, ip))).toEqual([
      'ok',
      'ok',
      'ok',
      'perNet',
    ]);
    expect(c.admit('m', '::ffff:192.0.2.9')).toBe('perNet');
    c.release('0');
    expect(c.admit('y', '192.0.2.4')).toBe('ok');
  });
});
