import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import type { startParsePool as StartParsePool, parseThreadsAvailable as Available } from '../../src/pipeline/isolate.js';
import { hostileMessages } from '../faults/support/hostile-mail.js';
import { testConfig } from '../helpers/env.js';
import { CASE, openTestStore, sample, silent, spool } from './helpers.js';

/**
 * Parse threads (src/pipeline/isolate.ts) from the built code in dist/ (`npm run build`): the
 * thread entry is compiled JavaScript. A message that exhausts its thread's heap or time ends in
 * `too-complex`; the calling thread lives on, and the next message gets a fresh thread.
 */
const dist = join(import.meta.dirname, '../../dist/pipeline/isolate.js');
const { startParsePool, parseThreadsAvailable } = (await import(dist)) as { startParsePool: typeof StartParsePool; parseThreadsAvailable: typeof Available };
const attacks = new Map(hostileMessages({ caseNumber: CASE }).map((a) => [a.name, a.raw]));
/** 48,000 parts: well past what a 24 MiB thread heap holds (the parser needs less per part than it did) */
const heapBomb = hostileMessages({ caseNumber: CASE, scale: 4 }).find((a) => a.name === 'forwarded messages of many tiny parts')!.raw;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setUp(
  overrides: Record<string, string>,
): Promise<{ config: Config; pool: ReturnType<typeof StartParsePool>; spoolOf: (raw: Buffer) => Promise<string> }> {
  const { config, cleanup } = testConfig(overrides);
  const store = await openTestStore(config);
  const pool = startParsePool(config, silent);
  cleanups.push(async () => {
    await pool.close();
    await cleanup();
  });
  return { config, pool, spoolOf: (raw) => spool(store, raw) };
}

describe('parse threads', () => {
  it('exist in the build', () => {
    expect(parseThreadsAvailable()).toBe(true);
  });

  it('parse and verify in a thread: attachment bytes and verdicts come back', async () => {
    const { pool, spoolOf } = await setUp({ CASEDROP_PARSE_THREADS: '1' });
    // one thread, three messages: a thread answers every message it is given, not only its first
    for (let i = 0; i < 2; i++) expect((await pool.analyse(await spoolOf(sample('verdicts.eml')))).kind).toBe('parsed');
    const analysis = await pool.analyse(await spoolOf(sample('verdicts.eml')));
    expect(analysis.kind).toBe('parsed');
    if (analysis.kind !== 'parsed') return;
    expect(analysis.judged.map((j) => [j.part.filename, j.verdict.reason])).toEqual([
      ['aes.7z', 'encrypted'],
      ['aes.zip', 'encrypted'],
      ['zipcrypto.zip', 'weak-zipcrypto'],
      ['plain.zip', 'unencrypted'],
    ]);
    expect(Buffer.isBuffer(analysis.judged[0]!.part.content)).toBe(true);
  });

  // near its heap limit V8 collects again and again rather than failing at once: the time budget ends that
  it('a message that exhausts the thread heap is too-complex, and the next message is read by a fresh thread', async () => {
    const { pool, spoolOf } = await setUp({
      CASEDROP_PARSE_MEMORY_MB: '24',
      CASEDROP_PARSE_TIME_MS: '5000',
      CASEDROP_PARSE_THREADS: '1',
      CASEDROP_MAX_MIME_PARTS: '100000',
    });
    expect(await pool.analyse(await spoolOf(heapBomb))).toEqual({ kind: 'refused', reason: 'too-complex' });
    expect((await pool.analyse(await spoolOf(sample('verdicts.eml')))).kind).toBe('parsed');
  }, 60_000);

  it('a thread that dies (stack overflow, out of memory at once) is too-complex, not a crash', async () => {
    // 1 MB of heap cannot even load the parser: the thread fails with ERR_WORKER_OUT_OF_MEMORY
    const { pool, spoolOf } = await setUp({ CASEDROP_PARSE_MEMORY_MB: '1', CASEDROP_PARSE_THREADS: '1' });
    expect(await pool.analyse(await spoolOf(sample('verdicts.eml')))).toEqual({ kind: 'refused', reason: 'too-complex' });
  });

  it('a message over the time budget is too-complex', async () => {
    const { pool, spoolOf } = await setUp({ CASEDROP_PARSE_TIME_MS: '1', CASEDROP_PARSE_THREADS: '1' });
    expect(await pool.analyse(await spoolOf(attacks.get('many files')!))).toEqual({ kind: 'refused', reason: 'too-complex' });
  });

  // the poison marker counts in `enter` (src/pipeline/intake.ts): a message waiting for the thread must not be counted
  it('enters a message only when the thread is free: a death counts against the one being parsed', async () => {
    const { pool, spoolOf } = await setUp({ CASEDROP_PARSE_THREADS: '1' });
    const [a, b] = [await spoolOf(sample('verdicts.eml')), await spoolOf(sample('verdicts.eml'))];
    const events: string[] = [];
    const enter = (id: string) => async () => void events.push(`enter ${id}`);
    const done = (id: string) => (analysis: { kind: string }) => void events.push(`done ${id}: ${analysis.kind}`);
    await Promise.all([pool.analyse(a, undefined, enter(a)).then(done(a)), pool.analyse(b, undefined, enter(b)).then(done(b))]);
    expect(events).toEqual([`enter ${a}`, `done ${a}: parsed`, `enter ${b}`, `done ${b}: parsed`]);
  });

  it('a message whose enter refuses is not parsed, and the thread takes the next one', async () => {
    const { pool, spoolOf } = await setUp({ CASEDROP_PARSE_THREADS: '1' });
    const refused = pool.analyse(await spoolOf(sample('verdicts.eml')), undefined, () => Promise.reject(new Error('poisonous')));
    await expect(refused).rejects.toThrow('poisonous');
    expect((await pool.analyse(await spoolOf(sample('verdicts.eml')))).kind).toBe('parsed');
  });
});
