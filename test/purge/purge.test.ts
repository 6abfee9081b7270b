import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { ErrorCode } from '../../src/errors.js';
import { processIntake } from '../../src/pipeline/intake.js';
import type { Outcome } from '../../src/jobs/types.js';
import { createRedis } from '../../src/redis.js';
import { openStore } from '../../src/store/open.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, readOutcome, realVerify, registryFor, sample, silent, spool } from '../pipeline/helpers.js';
import { cli, cliEnv } from './support.js';

const env = testConfig();
const { config } = env;
const out = mkdtempSync(join(tmpdir(), 'casedrop-purge-'));
const copy = `${config.dataDir}-before-purge`;
let redis: Redis;
let store: EncryptedStore;
let a: Outcome;
let b: Outcome;

beforeAll(async () => {
  redis = createRedis(config, 'worker');
  store = await openStore(config, silent);
  const registry = registryFor(config, redis, store);
  await registry.open(CASE, 'engineer@example.com');
  const deps = {
    config,
    store,
    registry,
    verify: realVerify,
    names: namesFor(config, redis),
    notify: { add: async () => undefined },
    logger: silent,
    audit: new AuditLog(store, redis, config.redisPrefix),
  };
  a = (await processIntake(await spool(store, sample('rfc2231-name.eml')), deps))!;
  b = (await processIntake(await spool(store, sample('simple-7z.eml')), deps))!;
  expect(a.stored).toHaveLength(1);
  expect(b.stored).toHaveLength(1);
});

afterAll(async () => {
  redis.disconnect();
  rmSync(out, { recursive: true, force: true });
  rmSync(copy, { recursive: true, force: true });
  await env.cleanup();
});

/** Every value in the run's Redis keys, audit keys aside (they index events by object id, never names). */
async function redisDump(): Promise<string> {
  const keys = await redis.keys(`${config.redisPrefix}:*`);
  const parts: string[] = [];
  for (const k of keys.filter((x) => !x.includes(':audit:'))) {
    const type = await redis.type(k);
    parts.push(k);
    if (type === 'string') parts.push((await redis.get(k)) ?? '');
    if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(k)));
    if (type === 'set') parts.push(JSON.stringify(await redis.smembers(k)));
    if (type === 'list') parts.push(JSON.stringify(await redis.lrange(k, 0, -1)));
  }
  return parts.join('\n');
}

describe('casedrop case purge', () => {
  it('a purged file cannot be got back by any way, with the master key at hand; the other file still reads', async () => {
    const fileA = a.stored[0]!;
    const fileB = b.stored[0]!;
    const vars = cliEnv(config);
    expect(await redisDump()).toContain(fileA.storedName);
    cpSync(config.dataDir, copy, { recursive: true });

    const typo = await cli(
      vars,
      'case',
      'purge',
      CASE,
      fileA.storedName,
      'no-such.zip',
      '--requested-by',
      'Jane Customer <jane@example.com>',
      '--reason',
      'sent by mistake',
    );
    expect(typo.code).toBe(1);
    expect(await store.exists(fileA.id)).toBe(true); // a typo purges nothing

    const purged = await cli(
      vars,
      'case',
      'purge',
      CASE,
      fileA.storedName,
      '--requested-by',
      'Jane Customer <jane@example.com>',
      '--reason',
      'sent by mistake',
    );
    expect(purged).toEqual({ code: 0, lines: [`purged\t${fileA.storedName}\t${fileA.size}\t${fileA.sha256}`] });

    // 1. the live store
    await expect(store.get(fileA.id)).rejects.toMatchObject({ code: ErrorCode.ObjectNotFound });
    expect((await cli(vars, 'case', 'get', CASE, fileA.storedName, '-o', join(out, 'a'))).code).not.toBe(0);
    expect((await cli(vars, 'case', 'files', CASE)).lines.map((l) => l.split('\t')[0])).toEqual([fileB.storedName]);
    // 2. a copy of the data dir taken before the purge, with the same master key and key store
    const fromCopy = await openStore({ ...config, dataDir: copy, keyStoreDir: `${config.dataDir}.keys` }, silent);
    await expect(fromCopy.get(fileA.id)).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed, message: expect.stringMatching(/purged.*cannot be recovered/) });
    const copyVars = cliEnv(config, { CASEDROP_DATA_DIR: copy, CASEDROP_KEYSTORE_DIR: `${config.dataDir}.keys` });
    expect((await cli(copyVars, 'case', 'get', CASE, fileA.storedName, '-o', join(out, 'a2'))).code).toBe(1);
    // 3. the rewrap command, on the copy and on the live store
    expect((await cli(copyVars, 'keys', 'rewrap')).code).toBe(1);
    await expect(fromCopy.get(fileA.id)).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed });
    expect((await cli(vars, 'keys', 'rewrap')).code).toBe(0);
    await expect(store.get(fileA.id)).rejects.toMatchObject({ code: ErrorCode.ObjectNotFound });
    // 4. Redis: no reservation or cached name left
    const dump = await redisDump();
    expect(dump).not.toContain(fileA.storedName);
    expect(dump).not.toContain(fileA.sha256);
    expect(dump).toContain(fileB.storedName);

    // the other file reads, live and from the copy
    expect((await cli(vars, 'case', 'get', CASE, fileB.storedName, '-o', join(out, 'b'))).code).toBe(0);
    expect(
      createHash('sha256')
        .update(readFileSync(join(out, 'b')))
        .digest('hex'),
    ).toBe(fileB.sha256);
    await expect(fromCopy.head(fileB.id)).resolves.toMatchObject({ sha256: fileB.sha256 });
  });

  it('leaves a case note, an audit entry and a tombstone in the outcome', async () => {
    const fileA = a.stored[0]!;
    const notes = (await cli(cliEnv(config), 'case', 'notes', CASE)).lines.join('\n');
    expect(notes).toContain(`File: ${fileA.storedName}`);
    expect(notes).toContain(`Size: ${fileA.size} bytes`);
    expect(notes).toContain(`SHA-256: ${fileA.sha256}`);
    expect(notes).toContain('Requested by: Jane Customer <jane@example.com>');
    expect(notes).toContain('Executed by: op.bob');
    expect(notes).toMatch(/When: \d{4}-\d\d-\d\dT/);
    expect(notes).toContain('Reason: sent by mistake');

    const { lines } = await cli(cliEnv(config), 'case', 'audit', CASE, '--json');
    const purged = (JSON.parse(lines.join('\n')) as AuditEntry[]).filter((e) => e.type === 'purged');
    expect(purged).toHaveLength(1);
    expect(purged[0]).toMatchObject({
      actor: 'op.bob',
      reason: 'sent by mistake',
      details: { requestedBy: 'Jane Customer <jane@example.com>' },
      file: { storedName: fileA.storedName, size: fileA.size, sha256: fileA.sha256 },
    });
    expect((await cli(cliEnv(config), 'case', 'audit', CASE, '--verify')).code).toBe(0);

    const tomb = (await readOutcome(store, a.spoolId)).stored[0]!;
    expect(tomb).toMatchObject({ id: fileA.id, storedName: fileA.storedName, originalName: '', format: 'removed', removal: 'purge' });
    expect(tomb.removedAt).toBeDefined();
    expect(await store.list(`purges/${CASE}/`)).toEqual([]);
  });

  it('--all removes every file and message text, keeping the removal notes; run again it purges nothing more', async () => {
    const vars = cliEnv(config);
    const all = await cli(vars, 'case', 'purge', CASE, '--all', '--requested-by', 'jane@example.com', '--reason', 'contract ended');
    expect(all.code).toBe(0);
    expect(all.lines[0]).toBe(`purged\t${b.stored[0]!.storedName}\t${b.stored[0]!.size}\t${b.stored[0]!.sha256}`);
    expect(await store.list(`cases/${CASE}/files/`)).toEqual([]);
    const notes = await store.list(`cases/${CASE}/notes/`);
    expect(notes.every((id) => id.includes('/removed-'))).toBe(true);
    expect(notes).toHaveLength(2);
    expect(await store.shred!.list(`cases/${CASE}/files/`)).toEqual([]);
    expect(await redis.exists(`${config.redisPrefix}:case-names:${CASE}:by-name`)).toBe(0);
    expect((await cli(vars, 'case', 'purge', CASE, '--all', '--requested-by', 'x', '--reason', 'y')).lines).toEqual([]);
  });
});
