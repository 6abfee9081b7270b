import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide, reasonTable, renderPolicyTable } from '../../src/verify/advice.js';
import { readManifest } from './manifest.js';

const families = readdirSync(join('fixtures', 'archives')).filter((name) => statSync(join('fixtures', 'archives', name)).isDirectory());

describe('the reason table', () => {
  it('has an explanation and a fixing advice for every reason', () => {
    expect(Object.keys(reasonTable).length).toBeGreaterThanOrEqual(10);
    for (const [code, info] of Object.entries(reasonTable)) {
      expect(info.explanation.length, code).toBeGreaterThan(30);
      expect(info.advice.length, code).toBeGreaterThan(20);
    }
  });

  it('accepts for "encrypted", refuses for the issue\'s codes, and every refusal names a command', () => {
    expect(reasonTable.encrypted!.verdict).toBe('accept');
    for (const code of ['unencrypted', 'weak-zipcrypto', 'partial-encryption', 'weak-cipher', 'no-integrity', 'corrupt', 'not-an-archive', 'zip-strong-encryption', 'unsupported-format']) {
      expect(reasonTable[code]?.verdict, code).toBe('reject');
    }
    for (const [code, info] of Object.entries(reasonTable)) {
      if (info.verdict === 'reject') expect(info.advice, code).toMatch(/\b(7z|gpg|openssl) /);
    }
  });

  it('fails closed on a code it does not know', () => {
    const result = decide('zip', 'no-such-code');
    expect([result.verdict, result.advice.length > 0]).toEqual(['reject', true]);
  });

  it('renders one policy table row per reason', () => {
    const table = renderPolicyTable();
    for (const code of Object.keys(reasonTable)) expect(table).toContain(`| \`${code}\` |`);
  });
});

describe('every fixture manifest', () => {
  it.each(families)('%s uses only reasons of the table, with the table’s verdict', (family) => {
    const manifest = readManifest(family);
    expect(manifest.length).toBeGreaterThan(0);
    for (const entry of manifest) {
      expect(reasonTable[entry.reason], `${family}/${entry.file}: ${entry.reason}`).toBeDefined();
      expect(entry.verdict, `${family}/${entry.file}`).toBe(reasonTable[entry.reason]!.verdict);
    }
  });
});
