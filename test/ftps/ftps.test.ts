import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFtpsDoor } from '../../src/ftps/index.js';
import type { FtpsDoor } from '../../src/ftps/server.js';
import { createLogger } from '../../src/log.js';
import { CASE, caseFiles, ssh2Sftp, startHarness, type Harness } from '../sftp/harness.js';

const exec = promisify(execFile);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('FTPS door (ftp-srv), driven by curl', () => {
  let h: Harness;
  let ftps: FtpsDoor;
  beforeAll(async () => {
    h = await startHarness();
    const cert = join(h.dir, 'cert.pem');
    const key = join(h.dir, 'key.pem');
    await exec('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const config = {
      ...h.config,
      ftpsEnabled: true,
      ftpsPort: 0,
      ftpsImplicitPort: 0,
      ftpsTlsCert: cert,
      ftpsTlsKey: key,
      ftpsPassivePorts: { min: 30200, max: 30299 },
    };
    ftps = await startFtpsDoor({ config, logger: createLogger('silent'), store: h.store, registry: h.registry, redis: h.redis });
  });
  afterAll(async () => {
    await ftps.stop();
    await h.close();
  });
  const stored = async (name: string) => (await caseFiles(h)).filter((f) => f.storedName === name);
  const curl = (args: string[], password = h.token) =>
    exec('curl', ['-sS', '-k', '--user', `${CASE}:${password}`, ...args], { cwd: h.dir }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('stores a file over explicit FTPS (AUTH TLS, PROT P) and over implicit FTPS', async () => {
    const a = randomBytes(2 << 20);
    const b = randomBytes(700_000);
    writeFileSync(join(h.dir, 'a.bin'), a);
    writeFileSync(join(h.dir, 'b.bin'), b);
    const explicit = await curl(['--ssl-reqd', '-T', 'a.bin', `ftp://127.0.0.1:${ftps.port}/`]);
    expect(explicit.code, explicit.stderr).toBe(0);
    const implicit = await curl(['-T', 'b.bin', `ftps://127.0.0.1:${ftps.implicitPort}/`]);
    expect(implicit.code, implicit.stderr).toBe(0);
    expect((await stored('a.bin')).map((f) => [f.sha256, f.channel])).toEqual([[sha(a), 'ftps']]);
    expect((await stored('b.bin')).map((f) => f.sha256)).toEqual([sha(b)]);
  });

  it('never offers plain FTP: a login without TLS is refused before the password', async () => {
    writeFileSync(join(h.dir, 'plain.bin'), 'x');
    const r = await curl(['-T', 'plain.bin', `ftp://127.0.0.1:${ftps.port}/`]);
    expect(r.code).not.toBe(0);
    expect(await stored('plain.bin')).toHaveLength(0);
  });

  it("refuses downloads, deletes and a wrong token; lists only this token's uploads", async () => {
    const get = await curl(['--ssl-reqd', `ftp://127.0.0.1:${ftps.port}/a.bin`, '-o', join(h.dir, 'back.bin')]);
    expect(get.code).not.toBe(0);
    const del = await curl(['--ssl-reqd', '-Q', 'DELE a.bin', `ftp://127.0.0.1:${ftps.port}/`]);
    expect(del.code).not.toBe(0);
    expect(await stored('a.bin')).toHaveLength(1);
    const wrong = await curl(['--ssl-reqd', `ftp://127.0.0.1:${ftps.port}/`], `cdu_${'z'.repeat(32)}`);
    expect(wrong.code).toBe(67);
    const list = await curl(['--ssl-reqd', '--list-only', `ftp://127.0.0.1:${ftps.port}/`]);
    expect(list.stdout.split(/\r?\n/).filter(Boolean).sort(), list.stderr).toEqual(['a.bin', 'b.bin']);
  });

  it('resumes an unfinished upload with curl -C - (SIZE, then APPE)', async () => {
    const content = randomBytes(3 << 20);
    writeFileSync(join(h.dir, 'resume.bin'), content);
    // an upload cut after its first MiB, here by an SFTP client that goes away without closing it
    const c = await ssh2Sftp(h);
    const handle = await c.call<Buffer>((cb) => c.sftp.open('/resume.bin', 'w', cb));
    await c.call<void>((cb) => c.sftp.write(handle, content, 0, 1 << 20, 0, cb as never));
    c.end();
    await vi.waitFor(() => {
      if (!h.logLines.some((l) => l.includes('kept for resume'))) throw new Error('not kept yet');
    });
    const r = await curl(['--ssl-reqd', '-C', '-', '-T', 'resume.bin', `ftp://127.0.0.1:${ftps.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect((await stored('resume.bin')).map((f) => [f.sha256, f.size])).toEqual([[sha(content), 3 << 20]]);
  });
});
