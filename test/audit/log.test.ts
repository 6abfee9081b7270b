import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { entryHash } from '../../src/audit/chain.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { createContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { processIntake } from '../../src/pipeline/intake.js';
import { createRedis } from '../../src/redis.js';
import type { ObjectStore } from '../../src/store/types.js';
import { thisHost } from '../../src/store/fs-temp.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, openTestStore, realVerify, registryFor, sample, silent, spool } from '../pipeline/helpers.js';

const env = testConfig();
const { config } = env;
let redis: Redis;
let store: ObjectStore;
let log: AuditLog;
const out = mkdtempSync(join(tmpdir(), 'casedrop-audit-'));

async function cli(...args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const vars = {
    NODE_ENV: 'test',
    CASEDROP_REDIS_PREFIX: config.redisPrefix,
    CASEDROP_DATA_DIR: config.dataDir,
    CASEDROP_LOG_LEVEL: 'silent',
    CASEDROP_MASTER_KEYS: config.masterKeys ?? '',
    CASEDROP_OPERATOR: 'eng.alice',
  };
  const code = await main(
    ['node', 'casedrop', ...args],
    createContext(vars, (l) => void lines.push(l)),
  );
  return { code, lines };
}

/** Writes a segment of one entry, as an insider with the master key could. */
const putEntry = (c: string, e: AuditEntry) =>
  store.put(`audit/${c}`, Readable.from([JSON.stringify({ to: 0, entries: [e] })]), { kind: 'audit', seq: e.seq }, { name: String(e.seq).padStart(12, '0') });
const seqs = async (c: string) => (await log.read(c)).map((e) => e.seq);

beforeAll(async () => {
  redis = createRedis(config, 'worker');
  store = await openTestStore(config);
  log = new AuditLog(store, redis, config.redisPrefix);
});
afterAll(async () => {
  redis.disconnect();
  rmSync(out, { recursive: true, force: true });
  await env.cleanup();
});

describe('audit log', () => {
  it('chains concurrent appends without gaps, each entry holding the previous hash', async () => {
    const c = '100000001';
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(c, { type: 'downloaded', actor: `eng${i}`, channel: 'cli' })));
    const entries = await log.read(c);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const [i, e] of entries.entries()) {
      expect(e.hash).toBe(entryHash(e));
      expect(e.prev).toBe(i === 0 ? '0'.repeat(64) : entries[i - 1]!.hash);
    }
    expect(await log.verify(c)).toEqual({ entries: 20, problems: [] });
  });

  it('takes over at once the lock of a process on this host that was killed holding it', async () => {
    const c = '100000005';
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await redis.set(`${config.redisPrefix}:audit:${c}:lock`, `${thisHost}.${dead}.abcdef`, 'PX', 600_000);
    await log.append(c, { type: 'hold-on', actor: 'op' });
    expect(await seqs(c)).toEqual([1]);
    // a live holder (this process under another token) is waited for, not robbed
    await redis.set(`${config.redisPrefix}:audit:${c}:lock`, `${thisHost}.${process.pid}.abcdef`, 'PX', 300);
    await log.append(c, { type: 'hold-off', actor: 'op' });
    expect(await seqs(c)).toEqual([1, 2]);
  });

  it('appends an event id once (a retried job)', async () => {
    const c = '100000002';
    await log.append(c, { type: 'stored', actor: 'a@example.com', eventId: 'stored:x' });
    await log.append(c, { type: 'stored', actor: 'a@example.com', eventId: 'stored:x' });
    await log.appendMany(c, [
      { type: 'refused', actor: 'a', eventId: 'r:1' },
      { type: 'refused', actor: 'a', eventId: 'r:1' },
    ]);
    expect((await log.read(c)).map((e) => e.eventId)).toEqual(['stored:x', 'r:1']);
  });

  it('adopts a segment whose flush died before moving the head, and rebuilds a lost head', async () => {
    const c = '100000003';
    await log.append(c, { type: 'hold-on', actor: 'op', eventId: 'e1' });
    const [first] = await log.read(c);
    const draft = { type: 'hold-off' as const, actor: 'op', eventId: 'e2', case: c, seq: 2, time: new Date().toISOString(), prev: first!.hash };
    await putEntry(c, { ...draft, hash: entryHash(draft) });
    await log.append(c, { type: 'hold-off', actor: 'op', eventId: 'e2' });
    expect(await seqs(c)).toEqual([1, 2]);
    await redis.del(`${config.redisPrefix}:audit:${c}:head`, `${config.redisPrefix}:audit:${c}:events`);
    await log.append(c, { type: 'hold-on', actor: 'op', eventId: 'e3' });
    await log.append(c, { type: 'hold-on', actor: 'op', eventId: 'e1' });
    expect((await log.read(c)).map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3']);
    expect((await log.verify(c)).problems).toEqual([]);
  });

  it('--verify detects an edited entry, a removed entry and a removed last entry', async () => {
    const c = '100000004';
    for (let i = 0; i < 4; i++) await log.append(c, { type: 'downloaded', actor: `eng${i}` });
    expect(await cli('case', 'audit', c, '--verify')).toEqual({ code: 0, lines: [`audit trail of case ${c}: 4 entries, chain intact`] });

    const entries = await log.read(c);
    await putEntry(c, { ...entries[1]!, actor: 'somebody else' }); // an insider with the master key
    const edited = await cli('case', 'audit', c, '--verify');
    expect(edited.code).toBe(1);
    expect(edited.lines.join('\n')).toMatch(/entry 2: its content does not match its hash \(edited\)/);

    await putEntry(c, entries[1]!);
    await store.delete(`audit/${c}/000000000003`);
    const removed = await cli('case', 'audit', c, '--verify');
    expect(removed.code).toBe(1);
    expect(removed.lines.join('\n')).toMatch(/found entry number 4 in its place/);

    await putEntry(c, entries[2]!);
    await store.delete(`audit/${c}/000000000004`);
    const cut = await cli('case', 'audit', c, '--verify');
    expect(cut.code).toBe(1);
    expect(cut.lines.join('\n')).toMatch(/ends at entry 3 but its recorded head is entry 4/);
  });

  it('records stored and refused files at intake, and downloads with who and when', async () => {
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
      audit: log,
    };
    const spoolId = await spool(store, sample('rfc2231-name.eml'), { mailFrom: 'customer@example.com' });
    const outcome = (await processIntake(spoolId, deps))!;
    const mixed = (await processIntake(await spool(store, sample('verdicts.eml'), { mailFrom: 'other@example.com' }), deps))!;
    expect(mixed.refused.length).toBeGreaterThan(0);
    const stored = outcome.stored[0]!;
    const target = join(out, 'got');
    expect((await cli('case', 'get', CASE, stored.storedName, '-o', target)).code).toBe(0);

    const { code, lines } = await cli('case', 'audit', CASE, '--json');
    expect(code).toBe(0);
    const entries = JSON.parse(lines.join('\n')) as AuditEntry[];
    expect(entries[0]).toMatchObject({
      seq: 1,
      case: CASE,
      type: 'stored',
      actor: 'customer@example.com',
      channel: 'email',
      file: { storedName: stored.storedName, size: stored.size, sha256: stored.sha256 },
    });
    const download = entries.find((e) => e.type === 'downloaded');
    expect(download).toMatchObject({ actor: 'eng.alice', channel: 'cli', file: { storedName: stored.storedName, sha256: stored.sha256 } });
    const refused = entries.filter((e) => e.type === 'refused');
    expect(refused).toHaveLength(mixed.refused.length);
    expect(refused[0]).toMatchObject({ actor: 'other@example.com', reason: mixed.refused[0]!.reason, file: { originalName: mixed.refused[0]!.originalName } });
    expect(Date.parse(download!.time)).toBeGreaterThan(Date.now() - 600_000);
    expect((await cli('case', 'audit', CASE)).lines.some((l) => l.startsWith('1\t') && l.includes('\tstored\tcustomer@example.com\temail\t'))).toBe(true);
    expect((await cli('case', 'audit', CASE, '--verify')).code).toBe(0);
  });
});
