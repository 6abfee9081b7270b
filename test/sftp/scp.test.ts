import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASE, caseFiles, scp, startHarness, type Harness } from './harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const at = (path = '') => `${CASE}@127.0.0.1:${path}`;

describe('SCP: OpenSSH scp over SFTP, and the legacy protocol (scp -O) that devices speak', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  const stored = async (name: string) => (await caseFiles(h)).filter((f) => f.storedName === name);

  it('scp (SFTP underneath) stores the file', async () => {
    const content = randomBytes(2 << 20);
    writeFileSync(join(h.dir, 'dump.core'), content);
    const r = await scp(h, ['dump.core', at()]);
    expect(r.code, r.stderr).toBe(0);
    expect((await stored('dump.core')).map((f) => [f.sha256, f.channel])).toEqual([[sha(content), 'sftp']]);
  });

  it('scp -O (legacy sink, scp -t) stores files, to / or to a name, and says what it stored', async () => {
    const content = randomBytes(1_500_000);
    writeFileSync(join(h.dir, 'show-tech.txt'), content);
    const r = await scp(h, ['-O', '-p', 'show-tech.txt', at()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`casedrop: stored show-tech.txt, 1500000 bytes, sha256 ${sha(content)}`);
    const named = await scp(h, ['-O', 'show-tech.txt', at('/renamed.txt')]);
    expect(named.code, named.stderr).toBe(0);
    expect((await stored('show-tech.txt')).map((f) => [f.sha256, f.channel])).toEqual([[sha(content), 'scp']]);
    expect((await stored('renamed.txt')).map((f) => f.sha256)).toEqual([sha(content)]);
  });

  it('scp -O -r stores every file of a directory tree under its own name', async () => {
    mkdirSync(join(h.dir, 'bundle', 'sub'), { recursive: true });
    const a = randomBytes(70_000);
    const b = randomBytes(0);
    const c = randomBytes(300_000);
    writeFileSync(join(h.dir, 'bundle', 'a.log'), a);
    writeFileSync(join(h.dir, 'bundle', 'empty.log'), b);
    writeFileSync(join(h.dir, 'bundle', 'sub', 'c.pcap'), c);
    const r = await scp(h, ['-O', '-r', 'bundle', at()]);
    expect(r.code, r.stderr).toBe(0);
    for (const [name, content] of [
      ['a.log', a],
      ['empty.log', b],
      ['c.pcap', c],
    ] as const) {
      expect(
        (await stored(name)).map((f) => f.sha256),
        name,
      ).toEqual([sha(content)]);
    }
  });

  it('refuses downloads (scp -f, and scp over SFTP), a parent directory and sub-directories', async () => {
    const legacy = await scp(h, ['-O', at('dump.core'), join(h.dir, 'back.core')]);
    expect(legacy.code).not.toBe(0);
    expect(legacy.stderr).toMatch(/upload-only drive: files cannot be downloaded/);
    const sftp = await scp(h, [at('dump.core'), join(h.dir, 'back.core')]);
    expect(sftp.code).not.toBe(0);
    const up = await scp(h, ['-O', 'dump.core', at('../etc/x')]);
    expect(up.code).not.toBe(0);
    expect(up.stderr).toMatch(/no parent directories/);
    const sub = await scp(h, ['-O', 'dump.core', at('/var/x')]);
    expect(sub.stderr).toMatch(/no sub-directories/);
    expect(await stored('x')).toHaveLength(0);
  });

  it('refuses a file name with control characters and goes on with the next file', async () => {
    writeFileSync(join(h.dir, 'bad\u0007bell.txt'), 'x');
    writeFileSync(join(h.dir, 'good.txt'), 'y');
    const r = await scp(h, ['-O', 'bad\u0007bell.txt', 'good.txt', at()]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/The name "bad\?bell.txt" is not allowed/);
    expect(await stored('good.txt')).toHaveLength(1);
  });
});
