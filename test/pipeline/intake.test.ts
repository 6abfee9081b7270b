import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config/schema.js';
import { createRedis } from '../../src/redis.js';
import { analyseSpooled } from '../../src/pipeline/analyse.js';
import { processIntake, type IntakeDeps, type IntakeStep } from '../../src/pipeline/intake.js';
import { BIG_BUFFER_BYTES as RELEASE_MIN_BYTES } from '../../src/release.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, realVerify, notifyQueue, openTestStore, readAll, readOutcome, registryFor, sample, silent, spool } from './helpers.js';

let env: Awaited<ReturnType<typeof testConfig>>;
let config: Config;
let redis: Redis;
let store: ObjectStore;
let notify: Queue;
let deps: IntakeDeps;
let registry: ReturnType<typeof registryFor>;

beforeEach(async () => {
  env = testConfig();
  config = env.config;
  redis = createRedis(config, 'worker');
  store = await openTestStore(config);
  notify = notifyQueue(config, redis);
  registry = registryFor(config, redis, store);
  await registry.open(CASE, 'engineer@example.com');
  deps = { config, store, registry, verify: realVerify, names: namesFor(config, redis), notify, logger: silent };
});

afterEach(async () => {
  await notify.close();
  redis.disconnect();
  await env.cleanup();
});

const files = () => store.list(`cases/${CASE}/files/`);

describe('processIntake', () => {
  it('stores accepted files with their metadata, refuses the rest, keeps the note, records the outcome, queues notify, deletes the spool', async () => {
    const spoolId = await spool(store, sample('verdicts.eml'), { messageId: '<m@x>' });
    const outcome = await processIntake(spoolId, deps);
    expect(outcome?.kind).toBe('partial');
    expect(outcome?.stored.map((f) => f.originalName)).toEqual(['aes.7z', 'aes.zip']);
    expect(outcome?.refused.map((f) => [f.originalName, f.reason])).toEqual([
      ['zipcrypto.zip', 'weak-zipcrypto'],
      ['plain.zip', 'unencrypted'],
    ]);
    expect(outcome?.refused.every((f) => f.advice.length > 0)).toBe(true);
    const heads = await Promise.all((await files()).map((f) => store.head(f)));
    const info = heads.find((h) => h.meta.originalName === 'aes.7z')!;
    expect(info.meta).toMatchObject({
      originalName: 'aes.7z',
      storedName: 'aes.7z',
      format: '7z',
      cipher: 'AES-256',
      sender: 'customer@example.com',
      spoolId,
      channel: 'email',
      verdict: { reason: 'encrypted' },
    });
    expect(info.meta.sha256).toBe(info.sha256);
    expect(typeof info.meta.messageId).toBe('string');
    expect(typeof info.meta.receivedAt).toBe('string');
    expect(await readOutcome(store, spoolId)).toMatchObject({ spoolId, kind: 'partial', caseNumber: CASE, noteId: `cases/${CASE}/notes/${spoolId}` });
    expect((await readOutcome(store, spoolId)).originalHeaders).toMatch(/^Received: /);
    expect((await readAll(await store.get(`cases/${CASE}/notes/${spoolId}`))).toString()).toContain('Logs attached.');
    expect((await notify.getJob(spoolId))?.data).toEqual({ outcomeId: `outcomes/${spoolId}` });
    expect(await store.exists(`spool/${spoolId}`)).toBe(false);
  });

  it("frees a big attachment's memory once it is stored, and stores it whole first", async () => {
    const spoolId = await spool(store, sample('verdicts.eml'));
    const held: Buffer[] = [];
    const analyse: IntakeDeps['analyse'] = async (id) => {
      const analysis = await analyseSpooled(id, deps);
      if (analysis.kind === 'parsed') {
        for (const j of analysis.judged) {
          // as the parse thread hands it over: a buffer owning its memory, big enough to be worth freeing
          j.part.content = Buffer.concat([j.part.content, Buffer.alloc(RELEASE_MIN_BYTES)]);
          held.push(j.part.content);
        }
      }
      return analysis;
    };
    const outcome = await processIntake(spoolId, { ...deps, analyse });
    expect(Math.min(...outcome!.stored.map((f) => f.size))).toBeGreaterThan(RELEASE_MIN_BYTES);
    expect(held.map((b) => b.length)).toEqual(held.map(() => 0));
  });

  it('opens the spooled message for its header once: the analysis gets its size from the job', async () => {
    const spoolId = await spool(store, sample('verdicts.eml'));
    const heads: string[] = [];
    const counting = new Proxy(store, {
      get: (target, key, receiver) =>
        key === 'head'
          ? (id: string) => {
              heads.push(id);
              return target.head(id);
            }
          : (Reflect.get(target, key, receiver) as unknown),
    });
    expect((await processIntake(spoolId, { ...deps, store: counting }))?.kind).toBe('partial');
    expect(heads.filter((id) => id === `spool/${spoolId}`)).toHaveLength(1);
  });

  it('a message without attachments gets no-attachment, and its note is kept', async () => {
    const spoolId = await spool(store, sample('no-attachment.eml'));
    const outcome = await processIntake(spoolId, deps);
    expect(outcome?.kind).toBe('no-attachment');
    expect(outcome?.noteId).toBeDefined();
    expect((await readAll(await store.get(outcome!.noteId!))).toString()).toContain('Serial 12345');
  });

  it('bounds the note to noteMaxBytes', async () => {
    deps = { ...deps, config: { ...deps.config, noteMaxBytes: 10 } };
    const spoolId = await spool(store, sample('no-attachment.eml'));
    const outcome = await processIntake(spoolId, deps);
    const note = await store.head(outcome!.noteId!);
    expect(note.size).toBeLessThanOrEqual(10);
    expect(note.meta.truncated).toBe(true);
  });

  it('a case closed since the door accepted the message keeps nothing; the outcome says case-closed', async () => {
    const spoolId = await spool(store, sample('simple-7z.eml'));
    await registry.close(CASE);
    const outcome = await processIntake(spoolId, deps);
    expect(outcome?.kind).toBe('case-closed');
    expect(await files()).toEqual([]);
    expect(await store.list(`cases/${CASE}/notes/`)).toEqual([]);
    expect(await store.exists(`outcomes/${spoolId}`)).toBe(true);
    expect(await notify.getJob(spoolId)).toBeDefined();
  });

  it('a retry that finds the case closed removes what a crashed attempt had stored', async () => {
    const spoolId = await spool(store, sample('simple-7z.eml'));
    const crash = (s: IntakeStep) => {
      if (s === 'after-note') throw new Error('crash');
    };
    await expect(processIntake(spoolId, { ...deps, checkpoint: crash })).rejects.toThrow('crash');
    expect(await files()).toHaveLength(1);
    await registry.close(CASE);
    expect((await processIntake(spoolId, deps))?.kind).toBe('case-closed');
    expect(await files()).toEqual([]);
    expect(await store.list(`cases/${CASE}/notes/`)).toEqual([]);
  });

  it('refuses winmail.dat with advice to resend without TNEF', async () => {
    const outcome = await processIntake(await spool(store, sample('winmail.eml')), deps);
    expect(outcome?.kind).toBe('refused');
    expect(outcome?.refused[0]).toMatchObject({ originalName: 'winmail.dat', reason: 'tnef' });
    expect(outcome?.refused[0]?.advice).toMatch(/winmail\.dat/);
  });

  it('refuses an opaque-signed S/MIME message with advice to sign with a detached signature', async () => {
    const outcome = await processIntake(await spool(store, sample('smime-opaque.eml')), deps);
    expect(outcome?.kind).toBe('refused');
    expect(outcome?.refused[0]).toMatchObject({ originalName: 'smime.p7m', reason: 'smime-opaque' });
  });

  it('stores the files of a forwarded message and of signed messages; inline cid images are not files', async () => {
    for (const [name, expected] of [
      ['forwarded.eml', ['forwarded.7z', 'direct.zip']],
      ['smime-signed.eml', ['signed.7z']],
      ['pgp-signed.eml', ['signed.7z']],
      ['inline-cid-image.eml', ['logs.7z']],
    ] as const) {
      const outcome = await processIntake(await spool(store, sample(name)), deps);
      expect(
        outcome?.stored.map((f) => f.originalName),
        name,
      ).toEqual(expected);
      expect(
        [...(outcome?.stored ?? []), ...(outcome?.refused ?? [])].map((f) => f.originalName),
        name,
      ).not.toContain('logo.png');
    }
  });

  it('keeps Unicode original names and numbers duplicate stored names across messages', async () => {
    const a = await processIntake(await spool(store, sample('rfc2231-name.eml')), deps);
    expect(a?.stored[0]).toMatchObject({ originalName: 'Résumé 日本語 ログ.7z', storedName: 'Résumé 日本語 ログ.7z' });
    const b = await processIntake(await spool(store, sample('duplicate-names.eml')), deps);
    expect(b?.stored.map((f) => f.storedName)).toEqual(['logs.7z', 'logs (2).7z', 'etc_pass_wd.7z']);
    const c = await processIntake(await spool(store, sample('simple-7z.eml')), deps);
    expect(c?.stored.map((f) => f.storedName)).toEqual(['logs (3).7z']);
  });

  it('numbers duplicates even when messages for one case are processed at the same time', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => spool(store, sample('simple-7z.eml'))));
    const outcomes = await Promise.all(ids.map((id) => processIntake(id, deps)));
    expect(outcomes.map((o) => o?.stored[0]?.storedName).sort()).toEqual(['logs (2).7z', 'logs (3).7z', 'logs.7z']);
  });

  it('a missing spool object with a recorded outcome completes quietly; without one it fails for good', async () => {
    const spoolId = await spool(store, sample('simple-7z.eml'));
    await processIntake(spoolId, deps);
    await expect(processIntake(spoolId, deps)).resolves.toBeUndefined();
    await expect(processIntake('NOSUCHSPOOLID', deps)).rejects.toMatchObject({ name: 'UnrecoverableError' });
  });

  it('holds a message under the memory budget, weighed at twice its spooled size', async () => {
    const spoolId = await spool(store, sample('simple-7z.eml'));
    const size = (await store.head(`spool/${spoolId}`)).size;
    const weighed: number[] = [];
    const budget = { run: <T>(bytes: number, fn: () => Promise<T>) => (weighed.push(bytes), fn()) };
    await processIntake(spoolId, { ...deps, budget });
    expect(weighed).toEqual([2 * size]);
  });

  it('drops quietly a ghost job: one whose door gave up on the message (4xx) before the add landed', async () => {
    await store.put('abandoned', Readable.from([]), { spoolId: 'GHOSTSPOOLID' }, { name: 'GHOSTSPOOLID' });
    await expect(processIntake('GHOSTSPOOLID', deps)).resolves.toBeUndefined();
    expect(await store.exists('abandoned/GHOSTSPOOLID')).toBe(false);
    expect(await store.list('outcomes/')).toEqual([]);
  });

  it('a store failure is temporary: the job throws a retryable error and leaves the spool object', async () => {
    const spoolId = await spool(store, sample('simple-7z.eml'));
    const failing: ObjectStore = {
      ...store,
      put: () => Promise.reject(new Error('disk went away')),
      exists: (id) => store.exists(id),
      head: (id) => store.head(id),
      get: (id) => store.get(id),
      list: (p) => store.list(p),
      delete: (id) => store.delete(id),
      names: (n) => store.names(n),
      quarantine: (id) => store.quarantine(id),
    };
    const err: unknown = await processIntake(spoolId, { ...deps, store: failing }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).not.toBe('UnrecoverableError');
    expect(await store.exists(`spool/${spoolId}`)).toBe(true);
  });

  for (const step of ['after-files', 'after-note', 'after-outcome', 'after-notify'] as IntakeStep[]) {
    it(`a crash ${step} converges on retry to one copy of each file, one note, one outcome, one notify job`, async () => {
      const spoolId = await spool(store, sample('verdicts.eml'));
      const crash = (s: IntakeStep) => {
        if (s === step) throw new Error(`crash ${s}`);
      };
      await expect(processIntake(spoolId, { ...deps, checkpoint: crash })).rejects.toThrow(`crash ${step}`);
      await processIntake(spoolId, deps);
      expect(await files()).toHaveLength(2);
      expect(await store.list(`cases/${CASE}/notes/`)).toHaveLength(1);
      expect(await store.list('outcomes/')).toEqual([`outcomes/${spoolId}`]);
      expect(await notify.getJobCounts()).toMatchObject({ waiting: 1 });
      expect(await store.exists(`spool/${spoolId}`)).toBe(false);
      expect((await readOutcome(store, spoolId)).stored[0]?.storedName).toBe('aes.7z');
    });
  }
});
