import { cpSync, existsSync, linkSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { ErrorCode } from '../../src/errors.js';
import { openStore } from '../../src/store/open.js';
import { testConfig, testMasterKeys } from '../helpers/env.js';
import { readAll, silent, storeWith } from './helpers.js';

let env: { config: Config; cleanup: () => Promise<void> };
beforeEach(() => {
  env = testConfig();
});
afterEach(async () => {
  for (const c of ['-copy', '-copy2']) rmSync(`${env.config.dataDir}${c}`, { recursive: true, force: true });
  await env.cleanup();
});

const put = (store: Awaited<ReturnType<typeof openStore>>, ns: string, text: string, name: string) => store.put(ns, Readable.from([text]), { text }, { name });

it('case objects get their own key (format 2); shredding it defeats a copy of the data dir taken before', async () => {
  const store = await openStore(env.config, silent);
  await put(store, 'cases/612345678/files', 'secret one', 'a');
  await put(store, 'cases/612345678/files', 'secret two', 'b');
  await put(store, 'spool', 'spooled', 's');
  await put(store, 'outcomes', 'an outcome', 'o');
  expect(await store.formatOf('cases/612345678/files/a')).toBe(2);
  expect(await store.formatOf('spool/s')).toBe(2); // a spooled message holds the attachments too
  expect(await store.formatOf('outcomes/o')).toBe(1);
  expect((await store.head('cases/612345678/files/a')).keyId).toBe('@object-key');

  const copy = `${env.config.dataDir}-copy`;
  cpSync(env.config.dataDir, copy, { recursive: true });
  expect(await store.shredObject('cases/612345678/files/a')).toBe(true);

  await expect(store.get('cases/612345678/files/a')).rejects.toMatchObject({ code: ErrorCode.ObjectNotFound });
  // the copy, opened with the same master key and key store, still holds the ciphertext: useless
  const fromCopy = await openStore({ ...env.config, dataDir: copy, keyStoreDir: `${env.config.dataDir}.keys` }, silent);
  await expect(fromCopy.get('cases/612345678/files/a')).rejects.toMatchObject({
    code: ErrorCode.KeyDestroyed,
    message: expect.stringContaining('cannot be recovered'),
  });
  await expect(fromCopy.head('cases/612345678/files/a')).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed });
  await expect(fromCopy.rewrap()).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed });
  expect((await readAll(fromCopy, 'cases/612345678/files/b')).toString()).toBe('secret two');
  expect((await readAll(store, 'cases/612345678/files/b')).toString()).toBe('secret two');
  expect(await store.shredObject('cases/612345678/files/a')).toBe(true); // idempotent
});

it('an ordinary delete of a spooled message destroys its key too: a backup taken while it was spooled is useless', async () => {
  const store = await openStore(env.config, silent);
  await put(store, 'spool', 'raw message with attachments', 'm1');
  const copy = `${env.config.dataDir}-copy`;
  cpSync(env.config.dataDir, copy, { recursive: true });
  await store.delete('spool/m1');
  expect(await store.shred!.has('spool/m1')).toBe(false);
  const fromCopy = await openStore({ ...env.config, dataDir: copy, keyStoreDir: `${env.config.dataDir}.keys` }, silent);
  await expect(fromCopy.get('spool/m1')).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed });
});

it('format 1 case objects still read, and keys rewrap moves them to their own key', async () => {
  const old = storeWith(env.config);
  await old.init();
  await old.put('cases/612345678/files', Readable.from(['written before']), {}, { name: 'old' });
  const store = await openStore(env.config, silent);
  expect(await store.formatOf('cases/612345678/files/old')).toBe(1);
  expect((await readAll(store, 'cases/612345678/files/old')).toString()).toBe('written before');
  expect(await store.rewrap()).toBe(1);
  expect(await store.rewrap()).toBe(0);
  expect(await store.formatOf('cases/612345678/files/old')).toBe(2);
  const copy = `${env.config.dataDir}-copy2`;
  cpSync(env.config.dataDir, copy, { recursive: true });
  await store.shredObject('cases/612345678/files/old');
  const fromCopy = await openStore({ ...env.config, dataDir: copy, keyStoreDir: `${env.config.dataDir}.keys` }, silent);
  await expect(readAll(fromCopy, 'cases/612345678/files/old')).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed });
});

it('master key rotation rewraps the key store entries; the old master key can then go', async () => {
  const store = await openStore(env.config, silent);
  await put(store, 'cases/612345678/files', 'kept', 'k');
  const newKey = testMasterKeys('k2');
  const rotated = await openStore({ ...env.config, masterKeys: `${newKey},${env.config.masterKeys}` }, silent);
  expect(await rotated.rewrap()).toBe(1); // the key store entry; the object itself needs no change
  expect(await rotated.rewrap()).toBe(0);
  const newOnly = await openStore({ ...env.config, masterKeys: newKey }, silent);
  expect((await readAll(newOnly, 'cases/612345678/files/k')).toString()).toBe('kept');
  const oldOnly = await openStore(env.config, silent);
  await expect(oldOnly.get('cases/612345678/files/k')).rejects.toMatchObject({ code: ErrorCode.KeyUnknown });
});

it('a destroyed key is zeros on disk before its name goes: a name a power loss brings back reads as destroyed', async () => {
  const store = await openStore(env.config, silent);
  await put(store, 'cases/612345678/files', 'secret', 'z');
  const path = store.shred!.pathOf('cases/612345678/files/z');
  // a second name for the entry's file stands in for the directory entry the unfsynced unlink may not remove
  const survivor = `${path}.survivor`;
  linkSync(path, survivor);
  expect(await store.shred!.destroy('cases/612345678/files/z')).toBe(true);
  expect(existsSync(path)).toBe(false);
  const left = readFileSync(survivor);
  expect(left.length).toBeGreaterThan(0);
  expect(left.every((b) => b === 0)).toBe(true);

  renameSync(survivor, path); // the power loss undid the unlink
  expect(await store.shred!.has('cases/612345678/files/z')).toBe(false);
  await expect(store.get('cases/612345678/files/z')).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed });
  expect(await store.shred!.rewrap()).toBe(0); // zeros are no entry to rewrap
  expect(await store.shred!.destroy('cases/612345678/files/z')).toBe(true); // removes the zeros
  expect(existsSync(path)).toBe(false);
});
