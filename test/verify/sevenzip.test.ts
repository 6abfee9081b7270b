import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';

interface Entry { file: string; command: string; format: string; verdict: string; reason: string; cipher?: string }

const dir = join(import.meta.dirname, '../../fixtures/archives/7z');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Entry[];

function expected(entry: Entry): Record<string, unknown> {
  return { format: entry.format, verdict: entry.verdict, reason: entry.reason, cipher: entry.cipher };
}

describe('7z fixtures made by 7-Zip', () => {
  it('cover every verdict the family can give', () => {
    const reasons = new Set(manifest.map((entry) => entry.reason));
    expect([...reasons].sort()).toEqual(['corrupt', 'encrypted', 'partial-encryption', 'unencrypted']);
  });

  for (const entry of manifest) {
    it(`${entry.file} (${entry.command}) → ${entry.verdict} ${entry.reason}`, async () => {
      const bytes = readFileSync(join(dir, entry.file));
      for (const result of [await verify({ buffer: bytes }), await verify({ path: join(dir, entry.file) })]) {
        expect({ format: result.format, verdict: result.verdict, reason: result.reason, cipher: result.cipher }).toEqual(expected(entry));
        expect(result.advice === '').toBe(entry.verdict === 'accept');
      }
    });
  }
});
