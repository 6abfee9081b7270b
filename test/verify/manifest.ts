import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { expect } from 'vitest';
import { verify } from '../../src/verify/index.js';
import type { VerifyResult } from '../../src/verify/types.js';

/** One line of fixtures/archives/<family>/manifest.json, written by fixtures/archives/make-<family>.sh. */
export interface ManifestEntry {
  file: string;
  command: string;
  format: string;
  verdict: 'accept' | 'reject';
  reason: string;
  cipher?: string;
  /** committed gzip-compressed because of its size; the archive is the gunzipped bytes */
  gzip?: boolean;
}

export function familyDir(family: string): string {
  return join('fixtures', 'archives', family);
}

export function readManifest(family: string): ManifestEntry[] {
  return JSON.parse(readFileSync(join(familyDir(family), 'manifest.json'), 'utf8')) as ManifestEntry[];
}

/** The archive's bytes and the name a customer would have attached it under. */
export function fixtureBytes(family: string, entry: ManifestEntry): { name: string; bytes: Buffer } {
  const raw = readFileSync(join(familyDir(family), entry.file));
  return entry.gzip ? { name: entry.file.replace(/\.gz$/, ''), bytes: gunzipSync(raw) } : { name: entry.file, bytes: raw };
}

/** verify() from memory and from a file; both must give the same verdict. */
export async function verifyBothWays(name: string, bytes: Buffer): Promise<{ fromBuffer: VerifyResult; fromPath: VerifyResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'casedrop-verify-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const fromBuffer = await verify({ name, buffer: bytes });
    const fromPath = await verify({ path });
    return { fromBuffer, fromPath };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function expectManifestVerdict(result: VerifyResult, entry: ManifestEntry): void {
  expect({ format: result.format, verdict: result.verdict, reason: result.reason, cipher: result.cipher }).toEqual({
    format: entry.format,
    verdict: entry.verdict,
    reason: entry.reason,
    cipher: entry.cipher,
  });
  if (result.verdict === 'accept') expect(result.advice).toBe('');
  else expect(result.advice.length).toBeGreaterThan(20);
}

/**
 * Fixtures with random bytes overwritten and, one time in four, cut short: each must still get a
 * verdict within 2 s, never an exception.
 */
export async function expectVerdictsUnderFlipsAndCuts(seeds: readonly Buffer[], numRuns = 300): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
      async (seed, flips, cut) => {
        const bytes = Buffer.from(seed);
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        const input = bytes.subarray(0, bytes.length - (cut % 4 === 0 ? cut % bytes.length : 0));
        const result = await verify({ buffer: input });
        expect(['accept', 'reject']).toContain(result.verdict);
      },
    ),
    { numRuns },
  );
}
