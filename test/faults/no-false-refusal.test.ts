import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeRng } from '../helpers/rng.js';
import { afterAll, describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';

/**
 * No false refusals: freshly made encrypted files of every accepted format, with random content
 * sizes (1 B to 256 KiB, log-uniform) and kinds (log text, random bytes, zeros), each made by the
 * real tool and verified; none may be refused. This is the randomness test's false-alarm check on
 * real AES output (7-Zip's ZIP AES and 7z AES, GnuPG's CFB, OpenSSL's CBC), beyond the committed
 * fixtures. FALSE_REFUSAL_FILES sets the count per format: 250 by default, so npm test stays near
 * 10 minutes (making a file with the real tool is most of the cost); the README's figure is a run
 * with 1000. FAULTS_SEED replays the sizes and kinds.
 */
const run = promisify(execFile);
const PER_FORMAT = Number(process.env.FALSE_REFUSAL_FILES ?? 250);
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PW = 'fixture-password';
const work = mkdtempSync(join(tmpdir(), 'casedrop-false-refusal-'));
const gnupg = join(work, 'gnupg');
mkdirSync(gnupg, { mode: 0o700 });
afterAll(() => rmSync(work, { recursive: true, force: true }));

function content(rand: () => number): Buffer {
  // at least 1 byte: a 7z of only empty files has nothing encrypted and is refused as unencrypted, rightly
  const size = Math.floor(2 ** (rand() * 18));
  const kind = Math.floor(rand() * 3);
  if (kind === 0) return Buffer.alloc(size);
  if (kind === 1) return randomBytes(size); // sizes and kinds replay from the seed; random content need not
  const lines: string[] = [];
  for (let n = 0, i = 0; n < size; i++) {
    const line = `2026-01-01T00:00:${String(i % 60).padStart(2, '0')} node-${i % 7} request ${Math.floor(rand() * 1e6)} took ${Math.floor(rand() * 900)} ms\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, size);
}

type Maker = (input: string, out: string, i: number) => [string, string[], Record<string, string>?];
const FORMATS: Record<string, { ext: string; make: Maker }> = {
  zip: { ext: 'zip', make: (input, out) => ['7zz', ['a', '-bd', '-bso0', '-bsp0', '-tzip', '-mem=AES256', `-p${PW}`, out, input]] },
  // half with encrypted headers, half with the header compressed but visible
  '7z': { ext: '7z', make: (input, out, i) => ['7zz', ['a', '-bd', '-bso0', '-bsp0', '-t7z', `-p${PW}`, `-mhe=${i % 2 ? 'on' : 'off'}`, out, input]] },
  // the S2K count only sets the time gpg spends; the lowest count casedrop accepts keeps the run short
  openpgp: {
    ext: 'gpg',
    make: (input, out, i) => [
      'gpg',
      [
        '--batch',
        '--quiet',
        '--yes',
        '--no-tty',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        PW,
        '--s2k-count',
        '1048576',
        ...(i % 2 ? ['-a'] : []),
        '-c',
        '-o',
        out,
        input,
      ],
      { GNUPGHOME: gnupg },
    ],
  },
  'openssl-enc': {
    ext: 'enc',
    make: (input, out, i) => ['openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-pass', `pass:${PW}`, ...(i % 2 ? ['-a'] : []), '-in', input, '-out', out]],
  },
};

/** Runs `task(i)` for i < count, `limit` at a time. */
async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

describe('no false refusals on freshly made encrypted files', () => {
  console.log(`false-refusal run: ${PER_FORMAT} files per format, seed ${SEED} (replay with FAULTS_SEED=${SEED})`);

  it.each(Object.keys(FORMATS))('%s: every file the tool makes is accepted', async (format) => {
    const { ext, make } = FORMATS[format]!;
    const rand = makeRng(SEED ^ ext.charCodeAt(0));
    const refused: string[] = [];
    let bytes = 0;
    await pool(PER_FORMAT, Math.max(2, availableParallelism()), async (i) => {
      const input = join(work, `${format}-${i}.log`);
      const out = join(work, `${format}-${i}.${ext}`);
      writeFileSync(input, content(rand));
      const [command, args, env] = make(input, out, i);
      await run(command, args, { env: { ...process.env, ...env } });
      const result = await verify({ path: out });
      bytes += result.details.encryptedBytes === undefined ? 0 : Number(result.details.encryptedBytes);
      if (result.verdict !== 'accept') refused.push(`${out}: ${result.reason} ${String(result.details.problem ?? '')}`);
      else rmSync(input);
    });
    console.log(`${format}: ${PER_FORMAT} files, ${refused.length} refused${bytes ? `, ${bytes} encrypted bytes tested` : ''}`);
    expect(refused).toEqual([]);
  });
});
