import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliRunner } from '../helpers/cli.js';
import { testConfig } from '../helpers/env.js';

/** A key pair made by the real ssh-keygen; returns the private key's path (the .pub is next to it). */
function keygen(dir: string, name: string, ...args: string[]): string {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', `${name}@device`, '-f', path, ...args]);
  return path;
}

describe('casedrop case key', () => {
  const { config, cleanup } = testConfig();
  const dir = mkdtempSync(join(tmpdir(), 'casedrop-keys-'));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await cleanup();
  });
  const run = cliRunner(config);

  it('adds (with the fingerprint ssh-keygen -lf prints), lists and removes, in the audit trail', async () => {
    await run('case', 'open', '612345678', '--owner', 'eng@example.com');
    const ed = keygen(dir, 'ed', '-t', 'ed25519');
    const rsa = keygen(dir, 'rsa', '-t', 'rsa', '-b', '3072');
    const added = await run('case', 'key', 'add', '612345678', `${ed}.pub`, '--label', 'switch 4');
    expect(added.code).toBe(0);
    expect((await run('case', 'key', 'add', '612345678', `${rsa}.pub`)).code).toBe(0);
    const listed = (await run('case', 'key', 'list', '612345678')).out.map((l) => l.split('\t'));
    const expected = (f: string) =>
      execFileSync('ssh-keygen', ['-lf', `${f}.pub`])
        .toString()
        .split(' ')[1];
    expect(listed.map(([, label, type, fp, , last]) => [label, type, fp, last])).toEqual([
      ['switch 4', 'ssh-ed25519', expected(ed), '-'],
      // no --label: the .pub file's comment
      ['rsa@device', 'ssh-rsa', expected(rsa), '-'],
    ]);
    const id = listed[0]![0]!;
    expect(id).toMatch(/^k[0-9a-f]{12}$/);
    expect((await run('case', 'key', 'remove', '612345678', id)).out).toEqual(['removed 1']);
    expect((await run('case', 'key', 'remove', '612345678', id)).code).toBe(2);
    expect((await run('case', 'key', 'remove', '612345678', '--all')).out).toEqual(['removed 1']);
    expect((await run('case', 'key', 'list', '612345678')).out).toEqual([]);
    const trail = JSON.parse((await run('case', 'audit', '612345678', '--json')).out.join('\n')) as { type: string; details?: Record<string, unknown> }[];
    expect(trail.map((e) => e.type)).toEqual(['key-added', 'key-added', 'key-removed', 'key-removed']);
    expect(trail[0]!.details).toMatchObject({ keyId: id, label: 'switch 4', type: 'ssh-ed25519', fingerprint: expected(ed) });
  });

  it('refuses a private key, a short RSA key, a malformed line, a key twice and a closed case (exit 2)', async () => {
    const ed = keygen(dir, 'ed2', '-t', 'ed25519');
    const short = keygen(dir, 'short', '-t', 'rsa', '-b', '1024');
    expect((await run('case', 'key', 'add', '612345678', ed)).code).toBe(2);
    expect((await run('case', 'key', 'add', '612345678', `${short}.pub`)).code).toBe(2);
    expect((await run('case', 'key', 'add', '612345678', join(dir, 'missing.pub'))).code).toBe(2);
    const junk = join(dir, 'junk.pub');
    execFileSync('sh', ['-c', `echo 'ssh-dss AAAAB3NzaC1kc3M= x' > ${junk}`]);
    expect((await run('case', 'key', 'add', '612345678', junk)).code).toBe(2);
    expect((await run('case', 'key', 'add', '612345678', `${ed}.pub`)).code).toBe(0);
    expect((await run('case', 'key', 'add', '612345678', `${ed}.pub`)).code).toBe(2);
    expect(readFileSync(`${ed}.pub`, 'utf8')).toContain('ssh-ed25519');
    await run('case', 'close', '612345678');
    expect((await run('case', 'key', 'add', '612345678', `${keygen(dir, 'late', '-t', 'ecdsa')}.pub`)).code).toBe(2);
    expect((await run('case', 'key', 'remove', '612345678')).code).toBe(2);
  });
});
