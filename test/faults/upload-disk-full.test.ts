import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountTmpfs, unmountTmpfs } from './support/tmpfs.js';
import { CASE, caseFiles, run, startUploadEnv, type UploadEnv } from '../upload/helpers.js';

/**
 * An upload bigger than the free space: the data dir is a 16 MiB tmpfs, so ENOSPC comes from the
 * kernel. The client gets 507, the partial object is removed (the temp dir is empty again), and
 * the next upload that fits is stored. Needs root (mount); skips saying so.
 */
const dir = mkdtempSync(join(tmpdir(), 'casedrop-upfull-'));
const dataDir = join(dir, 'data');
const mounted = mountTmpfs(dataDir, 16);
if (!mounted.ok) console.warn(`upload-disk-full: SKIPPED: mount -t tmpfs failed (${mounted.why}); needs root`);

let env: UploadEnv;
let token: string;

beforeAll(async () => {
  if (!mounted.ok) return;
  env = await startUploadEnv({ CASEDROP_DATA_DIR: dataDir });
  await env.registry.open(CASE, 'eng@example.com');
  token = (await env.tokens.create(CASE, { label: 'full', expiresInSeconds: 3600 })).secret;
});

afterAll(async () => {
  await env?.close();
  if (mounted.ok) unmountTmpfs(dataDir);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!mounted.ok)('an upload on a full disk', () => {
  it('answers 507, removes the partial upload, and takes the next one that fits', async () => {
    writeFileSync(join(dir, 'big.bin'), randomBytes(24 << 20));
    writeFileSync(join(dir, 'small.bin'), randomBytes(1 << 20));
    const put = async (file: string) => {
      const { stdout } = await run('curl', ['-sS', '-T', join(dir, file), '--user', `${CASE}:${token}`, '-w', '\n%{http_code}', `${env.base}/home/${file}`]);
      return { status: stdout.trimEnd().split('\n').pop(), body: stdout };
    };
    const full = await put('big.bin');
    expect(full.status).toBe('507');
    expect(full.body).toMatch(/out of storage; nothing was kept/);
    expect(readdirSync(join(dataDir, 'objects', '.tmp'))).toEqual([]);
    expect(await caseFiles(env)).toEqual([]);
    expect((await put('small.bin')).status).toBe('201');
    expect(await caseFiles(env)).toHaveLength(1);
  });
});
