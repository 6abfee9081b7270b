import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';
import { textKind } from '../../src/verify/plain/text.js';
import { expectManifestVerdict, familyDir, fixtureBytes, readManifest, verifyBothWays } from './manifest.js';

const manifest = readManifest('plain') as (ReturnType<typeof readManifest>[number] & { nameMismatch?: boolean })[];
const fixture = (family: string, file: string): Buffer => readFileSync(join(familyDir(family), file));

describe('plain files are refused under their own name', () => {
  for (const entry of manifest) {
    it(`${entry.file} → ${entry.format} ${entry.reason} (${entry.command})`, async () => {
      const { name, bytes } = fixtureBytes('plain', entry);
      const { fromBuffer, fromPath } = await verifyBothWays(name, bytes);
      for (const result of [fromBuffer, fromPath]) {
        expectManifestVerdict(result, entry);
        expect('nameMismatch' in result.details).toBe(entry.nameMismatch === true);
      }
    });
  }
});

describe('a name that promises something else', () => {
  it('reports a gzip file named .zip as gzip, and says the name is wrong', async () => {
    const result = await verify({ name: 'logs.zip', buffer: fixture('plain', 'gzip-named.zip') });
    expect([result.format, result.reason]).toEqual(['gzip', 'unencrypted']);
    expect(result.details.nameMismatch).toEqual({ extension: '.zip', expected: 'zip', found: 'gzip' });
    expect(result.advice).toMatch(/^The name ends in \.zip but this is not a zip file\. It is a gzip file\. Encrypt it/);
  });

  it('takes the name from the path when none is given', async () => {
    const result = await verify({ path: join(familyDir('plain'), 'pdf-named.zip') });
    expect(result.format).toBe('pdf');
    expect(result.advice).toContain('The name ends in .zip but this is not a zip file. It is a PDF document.');
  });

  it('still accepts an AES zip named .7z, noting the name only in the details', async () => {
    const result = await verify({ name: 'logs.7z', buffer: fixture('zip', 'aes256.zip') });
    expect([result.verdict, result.advice]).toEqual(['accept', '']);
    expect(result.details.nameMismatch).toEqual({ extension: '.7z', expected: '7z', found: 'zip' });
  });

  it('says nothing about extensions it does not know', async () => {
    const result = await verify({ name: 'report.docx', buffer: fixture('plain', 'app.log.gz') });
    expect(result.details.nameMismatch).toBeUndefined();
  });
});

describe('text sniffing', () => {
  it('takes a sample cut inside a multi-byte character as text', () => {
    const text = Buffer.from('Protokoll für Fall 612345678: Größe überschritten\n'.repeat(20));
    const cut = text.subarray(0, text.indexOf('ü') + 1); // first byte of a two-byte character
    expect(textKind(cut, text.length)).toBe('text');
  });

  it('does not take binary bytes for text', () => {
    expect(textKind(fixture('plain', 'random.bin').subarray(0, 512), 4096)).toBeUndefined();
  });
});
