import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * `casedrop verify` runs the way a customer runs it: the built CLI, no config, no Redis (the URL
 * points at a closed port to prove it is never used), on fixtures made by the real tools.
 */
const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const fixture = (path: string): string => join(root, 'fixtures/archives', path);
const env = { PATH: process.env.PATH, CASEDROP_REDIS_URL: 'redis://127.0.0.1:1', CASEDROP_CASE_DIGITS: 'not-a-number' };

async function verifyCli(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [join(root, 'dist/cli/main.js'), 'verify', ...args], { env, cwd: root });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

describe('casedrop verify', () => {
  it('exits 0 when every file would be accepted, naming format and cipher', async () => {
    const { code, stdout } = await verifyCli(fixture('zip/aes256.zip'), fixture('openpgp/c-default.gpg'), fixture('7z/aes-he.7z'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/aes256\.zip: ACCEPT zip \(WinZip AES-256 \(AE-2\)\)/);
    expect(stdout.match(/ACCEPT/g)).toHaveLength(3);
  });

  it('exits 1 when any file would be refused, with the command that fixes it', async () => {
    const { code, stdout } = await verifyCli(fixture('zip/aes256.zip'), fixture('openpgp/c-cast5.gpg'));
    expect(code).toBe(1);
    expect(stdout).toMatch(/c-cast5\.gpg: REJECT openpgp \(CAST5\) — weak-cipher\n {2}fix: .*gpg -c --cipher-algo AES256/);
  });

  it('prints one JSON object per file with --json', async () => {
    const { code, stdout } = await verifyCli('--json', fixture('openpgp/c-rfc2440.gpg'), join(root, 'does-not-exist.zip'));
    expect(code).toBe(1);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { verdict: string; reason: string });
    expect(lines.map((l) => [l.verdict, l.reason])).toEqual([
      ['reject', 'no-integrity'],
      ['reject', 'unreadable'],
    ]);
  });

  it('accepts a file encrypted to the published intake key only when --key names it', async () => {
    expect((await verifyCli(fixture('openpgp/e-intake.gpg'))).code).toBe(1);
    expect((await verifyCli('--key', fixture('openpgp/intake-key.pub.asc'), fixture('openpgp/e-intake.gpg'))).code).toBe(0);
  });
});
