import { Readable } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { parseMasterKeys } from '../../src/keys/ring.js';
import { testConfig, testMasterKeys } from '../helpers/env.js';
import { storeWith } from '../store/helpers.js';

const { config, cleanup } = testConfig();
afterAll(cleanup);

async function run(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(
    ['node', 'casedrop', ...args],
    createContext({ CASEDROP_LOG_LEVEL: 'silent', NODE_ENV: 'test', ...env }, (l) => void out.push(l)),
  );
  return { code, out };
}

it('casedrop keygen prints one key that CASEDROP_MASTER_KEYS accepts', async () => {
  const { code, out } = await run({}, 'keygen');
  expect(code).toBe(0);
  expect(out).toHaveLength(1);
  expect(parseMasterKeys(out[0]!).active.key.length).toBe(32);
});

it('casedrop keys rewrap prints how many objects it re-wrapped', async () => {
  const store = storeWith(config);
  await store.init();
  await store.put('spool', Readable.from(['a']), {});
  await store.put('cases/612345678', Readable.from(['b']), {});
  const env = { CASEDROP_DATA_DIR: config.dataDir, CASEDROP_MASTER_KEYS: `${testMasterKeys('k2')},${config.masterKeys}` };
  expect(await run(env, 'keys', 'rewrap')).toEqual({ code: 0, out: ['2'] });
  expect(await run(env, 'keys', 'rewrap')).toEqual({ code: 0, out: ['0'] });
});

it('casedrop keys rewrap in production without a key fails (exit 1)', async () => {
  expect((await run({ NODE_ENV: 'production', CASEDROP_DATA_DIR: config.dataDir }, 'keys', 'rewrap')).code).toBe(1);
});
