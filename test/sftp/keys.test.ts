import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSshKeyStore } from '../../src/cases/ssh-keys.js';
import { CASE, caseFiles, run, startHarness, type Harness } from './harness.js';

const OTHER_CASE = '612345679';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const loggedIn = (r: { stdout: string }) => r.stdout.includes('Remote working directory: /');

/** OpenSSH with only this key: no password, no agent, no other identity, never a prompt. */
const keyOpts = (key: string) => [
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'BatchMode=yes',
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  'IdentityAgent=none',
  '-o',
  'PreferredAuthentications=publickey',
  '-i',
  key,
];

function keygen(h: Harness, name: string, ...args: string[]): string {
  const path = join(h.dir, name);
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', `${name}@device`, '-f', path, ...args]);
  return path;
}

const sftpWithKey = (h: Harness, key: string, batch: string, user = CASE, extra: string[] = []) =>
  run('sftp', [...keyOpts(key), ...extra, '-P', String(h.drive.port), '-b', '-', `${user}@127.0.0.1`], { input: batch, cwd: h.dir });

describe('SSH public keys registered for a case', () => {
  let h: Harness;
  let keys: RedisSshKeyStore;
  beforeAll(async () => {
    h = await startHarness({ CASEDROP_UPLOAD_LOGIN_FAILURES_PER_ADDRESS: '1000', CASEDROP_UPLOAD_LOGIN_FAILURES_PER_CASE: '1000' });
    keys = new RedisSshKeyStore(h.redis, h.config.redisPrefix, h.registry, h.config.caseDigits);
    await h.registry.open(OTHER_CASE, 'eng@example.com');
  });
  afterAll(() => h.close());
  const add = async (key: string, caseNumber = CASE, label?: string) => keys.add(caseNumber, readFileSync(`${key}.pub`, 'utf8'), label);

  it.each([
    ['ed25519', ['-t', 'ed25519']],
    ['ecdsa', ['-t', 'ecdsa', '-b', '384']],
    ['rsa', ['-t', 'rsa', '-b', '2048']],
  ])('an %s key logs in to its case only, and its upload is stored under its label', async (type, args) => {
    const key = keygen(h, `id_${type}`, ...args);
    const added = await add(key, CASE, `device ${type}`);
    const content = randomBytes(300_000);
    writeFileSync(join(h.dir, `${type}.bin`), content);
    const r = await sftpWithKey(h, key, `put ${type}.bin\n`);
    expect(r.code, r.stderr).toBe(0);
    const files = (await caseFiles(h)).filter((f) => f.storedName === `${type}.bin`);
    expect(files.map((f) => [f.sha256, f.channel, f.tokenLabel])).toEqual([[sha(content), 'sftp', `device ${type}`]]);
    expect((await keys.list(CASE)).find((k) => k.id === added.id)?.lastUsedAt).toBeDefined();
    // the same key, the right name of another (open) case: refused
    expect(loggedIn(await sftpWithKey(h, key, 'pwd\n', OTHER_CASE))).toBe(false);
  });

  it('scp -i (SFTP underneath) and scp -O -i (legacy sink) upload with a key', async () => {
    const key = keygen(h, 'id_scp', '-t', 'ed25519');
    await add(key);
    writeFileSync(join(h.dir, 'scp-key.txt'), 'hello over scp\n');
    const at = `${CASE}@127.0.0.1:`;
    for (const legacy of [[], ['-O']]) {
      const r = await run('scp', [...keyOpts(key), ...legacy, '-P', String(h.drive.port), 'scp-key.txt', at], { cwd: h.dir });
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await caseFiles(h)).filter((f) => String(f.storedName).startsWith('scp-key')).map((f) => f.channel)).toEqual(
      expect.arrayContaining(['sftp', 'scp']),
    );
  });

  it('refuses an unregistered key, a wrong user name, a removed key and any key of a closed case', async () => {
    const key = keygen(h, 'id_refused', '-t', 'ed25519');
    expect(loggedIn(await sftpWithKey(h, key, 'pwd\n'))).toBe(false);
    const added = await add(key);
    expect(loggedIn(await sftpWithKey(h, key, 'pwd\n'))).toBe(true);
    for (const user of ['root', '61234567', `${CASE}0`]) expect(loggedIn(await sftpWithKey(h, key, 'pwd\n', user))).toBe(false);
    await h.registry.close(CASE);
    try {
      expect(loggedIn(await sftpWithKey(h, key, 'pwd\n'))).toBe(false);
    } finally {
      await h.registry.reopen(CASE);
    }
    expect(loggedIn(await sftpWithKey(h, key, 'pwd\n'))).toBe(true);
    expect(await keys.remove(CASE, added.id)).toBe(1);
    expect(loggedIn(await sftpWithKey(h, key, 'pwd\n'))).toBe(false);
  });

  it('refuses an RSA signature made with SHA-1 (ssh-rsa), as OpenSSH does', async () => {
    const key = keygen(h, 'id_rsa_sha1', '-t', 'rsa', '-b', '2048');
    await add(key);
    const r = await sftpWithKey(h, key, 'pwd\n', CASE, ['-o', 'PubkeyAcceptedAlgorithms=ssh-rsa']);
    expect(loggedIn(r)).toBe(false);
    expect(h.logLines.join('')).toContain('ssh key login refused');
  });

  it('a password login still works after an unregistered key was offered first', async () => {
    const key = keygen(h, 'id_unknown', '-t', 'ed25519');
    const r = await run(
      'sftp',
      [
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=no',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'IdentityAgent=none',
        '-i',
        key,
      ].concat(['-o', 'PreferredAuthentications=publickey,password', '-P', String(h.drive.port), '-b', '-', `${CASE}@127.0.0.1`]),
      { password: h.token, input: 'pwd\n', cwd: h.dir },
    );
    expect(loggedIn(r), r.stderr).toBe(true);
  });
});

describe('SSH key logins under the brute-force limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CASEDROP_UPLOAD_LOGIN_FAILURES_PER_ADDRESS: '3' });
  });
  afterAll(() => h.close());

  it('connections that offered only refused keys count, until even the registered key is refused', async () => {
    const keys = new RedisSshKeyStore(h.redis, h.config.redisPrefix, h.registry, h.config.caseDigits);
    const good = keygen(h, 'id_good', '-t', 'ed25519');
    const bad = keygen(h, 'id_bad', '-t', 'ed25519');
    await keys.add(CASE, readFileSync(`${good}.pub`, 'utf8'));
    expect(loggedIn(await sftpWithKey(h, good, 'pwd\n'))).toBe(true);
    for (let i = 0; i < 3; i++) expect(loggedIn(await sftpWithKey(h, bad, 'pwd\n'))).toBe(false);
    // each is counted when its connection closes, which the client may not wait for
    await expect.poll(() => h.logLines.filter((l) => l.includes('"event":"upload_login_failed"')).length).toBe(3);
    expect(loggedIn(await sftpWithKey(h, good, 'pwd\n'))).toBe(false);
    expect(h.logLines.join('')).toContain('"event":"upload_login_blocked"');
  });
});
