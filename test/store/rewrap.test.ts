import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { ErrorCode } from '../../src/errors.js';
import { FsBlobBackend } from '../../src/store/fs-backend.js';
import { testConfig, testMasterKeys } from '../helpers/env.js';
import { contentStart, objectPath, randomSource, readAll, storeWith } from './helpers.js';

let env: { config: Config; cleanup: () => Promise<void> };
beforeEach(() => {
  env = testConfig();
});
afterEach(() => env.cleanup());

it('rewrap moves every object to the active key without re-encrypting content; then the old key can go', async () => {
  const oldKeys = env.config.masterKeys!;
  const before = storeWith(env.config, oldKeys);
  await before.init();
  const written = new Map<string, string>();
  for (const [ns, size] of [
    ['spool', 0],
    ['cases/612345678', 70_000],
    ['outcomes', 200_000],
  ] as const) {
    const put = await before.put(ns, randomSource(size).stream, { ns });
    written.set(put.id, put.sha256);
  }
  const ids = [...written.keys()];
  const contentBefore = await Promise.all(ids.map(async (id) => tail(objectPath(env.config, id))));

  const newKey = testMasterKeys('k2');
  const rotated = storeWith(env.config, `${newKey},${oldKeys}`);
  const fresh = await rotated.put('spool', Readable.from(['new']), {});
  expect(await rotated.rewrap()).toBe(3);
  expect(await rotated.rewrap()).toBe(0);

  const newOnly = storeWith(env.config, newKey);
  for (const [i, id] of ids.entries()) {
    const info = await newOnly.head(id);
    expect(info.keyId).toBe('k2');
    expect(info.sha256).toBe(written.get(id));
    expect(info.meta).toEqual({ ns: id.slice(0, id.lastIndexOf('/')) });
    expect((await readAll(newOnly, id)).length).toBe(info.size);
    // same chunks, byte for byte: only the wrap section changed
    expect((await tail(objectPath(env.config, id))).equals(contentBefore[i]!)).toBe(true);
  }
  expect((await readAll(newOnly, fresh.id)).toString()).toBe('new');
  await expect(storeWith(env.config, oldKeys).get(ids[0]!)).rejects.toMatchObject({ code: ErrorCode.KeyUnknown });
});

it('rewrap reports objects it cannot unwrap, after doing the others', async () => {
  const a = storeWith(env.config, testMasterKeys('lost'));
  await a.init();
  await a.put('spool', Readable.from(['orphan']), {}, { name: 'orphan' });
  const b = storeWith(env.config);
  await b.put('spool', Readable.from(['fine']), {}, { name: 'fine' });
  const rotated = storeWith(env.config, `${testMasterKeys('k9')},${env.config.masterKeys}`);
  await expect(rotated.rewrap()).rejects.toMatchObject({ code: ErrorCode.KeyUnknown, message: expect.stringContaining('rewrapped 1 objects') });
  expect((await rotated.head('spool/fine')).keyId).toBe('k9');
});

it('a conditional commit never resurrects a deleted or replaced blob', async () => {
  const backend = new FsBlobBackend(env.config.dataDir);
  await backend.init();
  const store = storeWith(env.config, env.config.masterKeys, backend);
  await store.put('spool', Readable.from(['v1']), {}, { name: 'x' });
  const seen = (await backend.openRead('spool/x'))!;
  await seen.close();

  await store.put('spool', Readable.from(['v2']), {}, { name: 'x' });
  const stale = await backend.createWriteTemp();
  await stale.write([Buffer.from('old copy')]);
  expect(await stale.commit('spool/x', { ifVersion: seen.version })).toBe(false);
  expect((await readAll(store, 'spool/x')).toString()).toBe('v2');

  await store.delete('spool/x');
  const late = await backend.createWriteTemp();
  await late.write([Buffer.from('old copy')]);
  expect(await late.commit('spool/x', { ifVersion: seen.version })).toBe(false);
  expect(await store.exists('spool/x')).toBe(false);
});

async function tail(path: string): Promise<Buffer> {
  const blob = await readFile(path);
  return blob.subarray(contentStart(blob) - blob.readUInt32BE(12));
}
