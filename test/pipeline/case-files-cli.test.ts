import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type CliContext } from '../../src/cli/context.js';
import { registerCaseFileCommands } from '../../src/cli/commands/case-files.js';
import { processIntake } from '../../src/pipeline/intake.js';
import { createRedis } from '../../src/redis.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, realVerify, openTestStore, registryFor, sample, silent, spool } from './helpers.js';

/** `casedrop case files|get|notes`, registered on a `case` command the way case.ts will. */
const env = testConfig();
const out = mkdtempSync(join(tmpdir(), 'casedrop-get-'));
let lines: string[] = [];
let ctx: CliContext;

async function run(...args: string[]): Promise<string[]> {
  lines = [];
  const program = new Command('casedrop').exitOverride();
  registerCaseFileCommands(program.command('case'), ctx);
  await program.parseAsync(['node', 'casedrop', 'case', ...args]);
  return lines;
}

beforeAll(async () => {
  const { config } = env;
  ctx = createContext(
    {
      NODE_ENV: 'test',
      CASEDROP_REDIS_PREFIX: config.redisPrefix,
      CASEDROP_DATA_DIR: config.dataDir,
      CASEDROP_LOG_LEVEL: 'silent',
      CASEDROP_MASTER_KEYS: config.masterKeys ?? '',
    },
    (l) => lines.push(l),
  );
  const redis = createRedis(config, 'worker');
  const store = await openTestStore(config);
  const registry = registryFor(config, redis, store);
  await registry.open(CASE, 'engineer@example.com');
  const deps = { config, store, registry, verify: realVerify, names: namesFor(config, redis), notify: { add: async () => undefined }, logger: silent };
  await processIntake(await spool(store, sample('rfc2231-name.eml'), { mailFrom: 'first@example.com' }), deps);
  await processIntake(await spool(store, sample('no-attachment.eml')), deps);
  redis.disconnect();
});

afterAll(async () => {
  await ctx.close();
  rmSync(out, { recursive: true, force: true });
  await env.cleanup();
});

describe('casedrop case files/get/notes', () => {
  it('lists stored files with name, size, SHA-256, format/cipher, sender and time', async () => {
    const listed = await run('files', CASE);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(/^Résumé 日本語 ログ\.7z\t\d+\t[0-9a-f]{64}\t7z\/AES-256\tfirst@example\.com\t\d{4}-\d\d-\d\dT/);
    // channel, token label (none for mail), how the sender was authenticated (not checked here)
    expect(listed[0]).toMatch(/\temail\t-\t-$/);
  });

  it('decrypts one file to a path, byte for byte, and never overwrites', async () => {
    const [line] = await run('files', CASE);
    const [name, size, sha] = (line ?? '').split('\t');
    const target = join(out, 'got.7z');
    await run('get', CASE, name!, '-o', target);
    const bytes = readFileSync(target);
    expect(String(bytes.length)).toBe(size);
    expect((await import('node:crypto')).createHash('sha256').update(bytes).digest('hex')).toBe(sha);
    await expect(run('get', CASE, name!, '-o', target)).rejects.toThrow(/EEXIST/);
    await expect(run('get', CASE, 'nope.7z', '-o', join(out, 'x'))).rejects.toThrow(/has no file "nope.7z"/);
  });

  it('prints the notes with who sent them', async () => {
    const notes = (await run('notes', CASE)).join('\n');
    expect(notes).toContain('Serial 12345');
    expect(notes).toContain('Logs attached.');
    expect(notes).toMatch(/^--- \d{4}-.* from customer@example\.com — Case 612345678/m);
  });
});
