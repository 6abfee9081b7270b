import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseFilesNamespace } from '../../src/jobs/ids.js';
import { CASE, caseFiles, sftpBatch, ssh2Sftp, startHarness, type Harness } from './harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('SFTP upload-only jail, driven by OpenSSH sftp', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const stored = async (name: string) => (await caseFiles(h)).filter((f) => f.storedName === name);

  it('put stores the file in the case with its SHA-256; the banner says what this is', async () => {
    const content = randomBytes(3 << 20);
    writeFileSync(join(h.dir, 'core.bin'), content);
    const r = await sftpBatch(h, 'pwd\nput -p core.bin\nls -l\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('casedrop upload drive');
    expect(r.stderr).toContain('18 months after it closes');
    expect(r.stdout).toContain('Remote working directory: /');
    expect(r.stdout).toMatch(/stored +upload +3145728 .* core\.bin/);
    const files = await stored('core.bin');
    expect(files.map((f) => f.sha256)).toEqual([sha(content)]);
    expect(files[0]).toMatchObject({ channel: 'sftp', tokenLabel: 'router-1', verdict: { verdict: 'reject', reason: 'not-an-archive' } });
  });

  it('refuses reading, deleting, directories, links and renaming a stored file, each with a sentence', async () => {
    writeFileSync(join(h.dir, 'a.txt'), 'hello');
    await sftpBatch(h, 'put a.txt\n');
    const r = await sftpBatch(
      h,
      [
        '-get a.txt got.txt',
        '-rm a.txt',
        '-mkdir logs',
        '-ln -s a.txt b.txt',
        '-rename a.txt c.txt',
        '-put a.txt logs/a.txt',
        '-put a.txt ../a.txt',
        '-cd ..',
        'pwd',
      ].join('\n'),
    );
    for (const refused of [
      'remote open "/a.txt"',
      'remote delete /a.txt',
      'remote mkdir "/logs"',
      'remote symlink file "a.txt" to "/b.txt"',
      'remote rename "/a.txt" to "/c.txt"',
      'dest open "/logs/a.txt"',
      'dest open "/../a.txt"',
    ]) {
      expect(r.stderr).toContain(`${refused}: Permission denied`);
    }
    expect(r.stdout).toContain('Remote working directory: /');
    expect(await stored('a.txt')).toHaveLength(1);
    expect(await stored('c.txt')).toHaveLength(0);
  });

  it('says why in the status message (clients such as WinSCP and lftp print it)', async () => {
    const c = await ssh2Sftp(h);
    try {
      await expect(c.call((cb) => c.sftp.open('/a.txt', 'r', cb))).rejects.toThrow(/upload-only drive: files cannot be read/);
      await expect(c.call((cb) => c.sftp.unlink('/a.txt', cb as never))).rejects.toThrow(/nothing can be deleted/);
      await expect(c.call((cb) => c.sftp.mkdir('/logs', cb as never))).rejects.toThrow(/there are no directories/);
      await expect(c.call((cb) => c.sftp.open('/../etc/passwd', 'w', cb))).rejects.toThrow(/no parent directories/);
      await expect(c.call((cb) => c.sftp.open('/bad\u0007name', 'w', cb))).rejects.toThrow(/"bad\?name" is not allowed: a file name is one path segment/);
    } finally {
      c.end();
    }
  });

  it('refuses a name with control characters', async () => {
    writeFileSync(join(h.dir, 'x.bin'), 'x');
    const r = await sftpBatch(h, 'put x.bin "bad\u0001name"\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(await stored('bad\u0001name')).toHaveLength(0);
  });

  it('refuses a wrong token and another case', async () => {
    const wrong = await sftpBatch(h, 'pwd\n', { password: 'cdu_' + 'x'.repeat(32) });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/Permission denied/);
    const other = await sftpBatch(h, 'pwd\n', { user: '699999999' });
    expect(h.logLines.join('')).toContain('"event":"upload_login_failed"');
    expect(other.code).not.toBe(0);
    expect(other.stdout).not.toContain('Remote working directory');
  });

  it("lists only this token's own uploads", async () => {
    // a file of the case that came another way (email) is not this token's
    await h.store.put(
      caseFilesNamespace(CASE),
      (async function* () {
        yield Buffer.from('secret');
      })(),
      { kind: 'file', storedName: 'from-email.zip', verdict: { verdict: 'accept' } },
    );
    const r = await sftpBatch(h, 'ls -1\n');
    expect(r.stdout).toContain('a.txt');
    expect(r.stdout).not.toContain('from-email.zip');
    const stat = await sftpBatch(h, '-ls -l from-email.zip\n');
    expect(stat.stderr).toMatch(/not found/);
  });

  it('puts out-of-order, parallel WRITEs in order', async () => {
    const content = randomBytes(1 << 20);
    const c = await ssh2Sftp(h);
    try {
      const handle = await c.call<Buffer>((cb) => c.sftp.open('/shuffled.bin', 'w', cb));
      const pieces = Array.from({ length: 32 }, (_, i) => i * 32768).reverse();
      await Promise.all(pieces.map((off) => c.call<void>((cb) => c.sftp.write(handle, content, off, 32768, off, cb as never))));
      await c.call<void>((cb) => c.sftp.close(handle, cb as never));
    } finally {
      c.end();
    }
    expect((await stored('shuffled.bin')).map((f) => f.sha256)).toEqual([sha(content)]);
  });

  it('finalises a WinSCP .filepart upload under the name it is renamed to, and refuses other renames', async () => {
    const content = randomBytes(100_000);
    const c = await ssh2Sftp(h);
    try {
      const handle = await c.call<Buffer>((cb) => c.sftp.open('/show-tech.txt.filepart', 'w', cb));
      await c.call<void>((cb) => c.sftp.write(handle, content, 0, content.length, 0, cb as never));
      await c.call<void>((cb) => c.sftp.close(handle, cb as never));
      await c.call<void>((cb) => c.sftp.rename('/show-tech.txt.filepart', '/show-tech.txt', cb as never));
      await expect(c.call<void>((cb) => c.sftp.rename('/show-tech.txt', '/other.txt', cb as never))).rejects.toThrow(/renamed/);
    } finally {
      c.end();
    }
    expect((await stored('show-tech.txt')).map((f) => f.sha256)).toEqual([sha(content)]);
    expect(await stored('show-tech.txt.filepart')).toHaveLength(0);
  });
});
