import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { ErrorCode } from '../../src/errors.js';
import { DEV_KEY_FILE, loadMasterKeys } from '../../src/keys/load.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import { testConfig } from '../helpers/env.js';

let env: { config: Config; cleanup: () => Promise<void> };
let lines: string[];
const capture = () =>
  createLogger(
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );

beforeEach(() => {
  env = testConfig();
  lines = [];
});
afterEach(() => env.cleanup());

const noKeys = (mode: Config['mode'] = 'development') => ({ ...env.config, masterKeys: undefined, mode });

it('configured keys are used as they are', async () => {
  const ring = await loadMasterKeys(env.config, capture());
  expect(ring.active.id).toBe('k1');
  expect(lines).toEqual([]);
});

it('without keys in development, creates <dataDir>/master.key with mode 0600 and warns without the key', async () => {
  const ring = await loadMasterKeys(noKeys(), capture());
  const file = join(env.config.dataDir, DEV_KEY_FILE);
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  const stored = (await readFile(file, 'utf8')).trim();
  expect(stored.split(':')[0]).toBe(ring.active.id);
  const warning = lines.map((l) => JSON.parse(l)).find((l) => l.level === 40);
  expect(warning?.msg).toMatch(/NO CASEDROP_MASTER_KEYS/);
  expect(lines.join('\n')).not.toContain(stored.split(':')[1]);
  // the next start reads the same key
  expect((await loadMasterKeys(noKeys('test'), capture())).active.key.equals(ring.active.key)).toBe(true);
});

it('processes starting at once agree on one dev key', async () => {
  const rings = await Promise.all(Array.from({ length: 8 }, () => loadMasterKeys(noKeys(), capture())));
  for (const r of rings) expect(r.active.key.equals(rings[0]!.active.key)).toBe(true);
  expect((await readdir(env.config.dataDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
});

it('production without a key refuses to start with KEY_MISSING, and creates nothing', async () => {
  await expect(loadMasterKeys(noKeys('production'), capture())).rejects.toMatchObject({ code: ErrorCode.KeyMissing });
  await expect(openStore(noKeys('production'), capture())).rejects.toMatchObject({ code: ErrorCode.KeyMissing });
  await expect(stat(join(env.config.dataDir, DEV_KEY_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
});

it('a damaged dev key file is a CONFIG_INVALID error, not a new key', async () => {
  await writeFile(join(env.config.dataDir, DEV_KEY_FILE), 'garbage\n', { mode: 0o600 });
  await expect(loadMasterKeys(noKeys(), capture())).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
});

it('a bad CASEDROP_MASTER_KEYS fails openStore with CONFIG_INVALID', async () => {
  await expect(openStore({ ...env.config, masterKeys: 'k1:short' }, capture())).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
});
