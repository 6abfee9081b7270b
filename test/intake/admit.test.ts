import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitParts, admitStream, withdraw, type StreamDeps } from '../../src/intake/admit.js';
import { fileView } from '../../src/intake/records.js';
import type { Arrival } from '../../src/intake/types.js';
import { processIntake } from '../../src/pipeline/intake.js';
import { createRedis } from '../../src/redis.js';
import { openStore } from '../../src/store/open.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, readAll, realVerify, registryFor, sample, silent, spool } from '../pipeline/helpers.js';

const ARCHIVES = join(import.meta.dirname, '../../fixtures/archives');
const env = testConfig();
let redis: Redis;
let store: EncryptedStore;
let deps: StreamDeps;

function arrival(fileId: string, originalName: string): Arrival {
  return {
    caseNumber: CASE,
    channel: 'https',
    fileId,
    originalName,
    receivedAt: new Date().toISOString(),
    token: { id: 'tok1', label: 'router-7' },
    extra: { clientAddress: '192.0.2.7' },
  };
}

/** An upload arrives in small pieces, never as one buffer. */
function trickle(bytes: Buffer, piece = 7001): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
    })(),
  );
}

beforeAll(async () => {
  redis = createRedis(env.config, 'worker');
  store = await openStore(env.config, silent);
  await registryFor(env.config, redis, store).open(CASE, 'eng@example.com');
  deps = { store, names: namesFor(env.config, redis), verify: realVerify, logger: silent, requireEncrypted: [] };
});

afterAll(async () => {
  redis.disconnect();
  await env.cleanup();
});

describe('admitStream: a file of any size becomes part of the case', () => {
  it('stores a streamed archive bigger than many chunks, judged from the store by the same verifier as mail', async () => {
    // 1.5 MB: the zip's central directory sits in the last of ~25 encrypted chunks
    const zip = gunzipSync(readFileSync(join(ARCHIVES, 'zip/aes256-zip64-many.zip.gz')));
    const file = await admitStream(arrival('up-1', 'many.zip'), trickle(zip), deps);
    expect(file).toMatchObject({
      storedName: 'many.zip',
      size: zip.length,
      verdict: 'accept',
      reason: 'encrypted',
      channel: 'https',
      tokenLabel: 'router-7',
      kept: true,
    });
    expect(file.sha256).toBe(createHash('sha256').update(zip).digest('hex'));
    expect((await readAll(await store.get(file.id))).equals(zip)).toBe(true);
    const view = await fileView(store, await store.head(file.id));
    expect(view).toMatchObject({
      storedName: 'many.zip',
      channel: 'https',
      tokenLabel: 'router-7',
      format: 'zip',
      verdict: { verdict: 'accept', reason: 'encrypted' },
    });
  });

  it('keeps an unencrypted upload by default, with its refusal reason recorded for the engineer', async () => {
    const log = readFileSync(join(ARCHIVES, 'plain/app.log'));
    const file = await admitStream(arrival('up-2', 'app.log'), trickle(log), deps);
    expect(file).toMatchObject({ kept: true, verdict: 'reject', reason: 'unencrypted' });
    expect((await fileView(store, await store.head(file.id))).verdict).toMatchObject({ verdict: 'reject', reason: 'unencrypted' });
  });

  it('keeps nothing when the channel requires encrypted archives and the content is not one', async () => {
    const log = readFileSync(join(ARCHIVES, 'plain/app.log'));
    const file = await admitStream(arrival('up-3', 'app2.log'), trickle(log), { ...deps, requireEncrypted: ['https'] });
    expect(file).toMatchObject({ kept: false, reason: 'unencrypted' });
    expect(await store.exists(file.id)).toBe(false);
    expect(await store.list(`cases/${CASE}/verdicts/up-3`)).toEqual([]);
    // nor does it take the name from the case
    expect((await admitStream(arrival('up-3b', 'app2.log'), trickle(log), deps)).storedName).toBe('app2.log');
  });

  it('withdraw removes the file and its verdict record', async () => {
    const file = await admitStream(arrival('up-4', 'gone.bin'), trickle(randomBytes(100_000)), deps);
    await withdraw(store, file);
    expect(await store.exists(file.id)).toBe(false);
    expect(await store.exists(`cases/${CASE}/verdicts/up-4`)).toBe(false);
  });

  it('shares stored names with mail: an upload never overwrites an emailed file of the same name', async () => {
    const deps2 = {
      config: env.config,
      store,
      registry: registryFor(env.config, redis, store),
      verify: realVerify,
      names: namesFor(env.config, redis),
      notify: { add: async () => undefined },
      logger: silent,
    };
    const outcome = await processIntake(await spool(store, sample('rfc2231-name.eml')), deps2);
    const mailed = outcome!.stored[0]!;
    const seven = readFileSync(join(ARCHIVES, '7z', 'aes.7z'));
    const uploaded = await admitStream(arrival('up-5', mailed.storedName), trickle(seven), deps);
    expect(uploaded.storedName).not.toBe(mailed.storedName);
    expect(uploaded.storedName).toMatch(/ \(2\)\.7z$/);
    const mailView = await fileView(store, await store.head(mailed.id));
    expect(mailView).toMatchObject({ channel: 'email', verdict: { verdict: 'accept' } });
  });
});

describe('admitParts: an upload already in the store becomes a case file', () => {
  it('writes one manifest that carries the stored name and verdict: no separate verdict record', async () => {
    const seven = readFileSync(join(ARCHIVES, '7z', 'aes.7z'));
    const half = Math.floor(seven.length / 2);
    const first = await store.put('uploads/up-6', Readable.from([seven.subarray(0, half)]), {}, { name: '0' });
    const second = await store.put('uploads/up-6', Readable.from([seven.subarray(half)]), {}, { name: String(half) });
    const file = await admitParts(arrival('up-6', 'parts.7z'), [first.id, second.id], deps);
    expect(file).toMatchObject({ storedName: 'parts.7z', size: seven.length, verdict: 'accept', kept: true });
    expect(file.sha256).toBe(createHash('sha256').update(seven).digest('hex'));
    const manifest = await store.head(file.id);
    expect(manifest.meta).toMatchObject({ parts: [first.id, second.id], storedName: 'parts.7z', verdict: { verdict: 'accept', reason: 'encrypted' } });
    expect(await store.exists(`cases/${CASE}/verdicts/up-6`)).toBe(false);
    expect(await fileView(store, manifest)).toMatchObject({ storedName: 'parts.7z', format: '7z', verdict: { verdict: 'accept' } });
  });
});

describe('range reads of an encrypted object', () => {
  it('returns exactly the plaintext bytes of any range, across chunk boundaries', async () => {
    const bytes = randomBytes(300_000);
    const put = await store.put('rangetest', Readable.from([bytes]), {});
    const reader = await store.openRange(put.id);
    try {
      for (const [offset, length] of [
        [0, 10],
        [65_530, 20],
        [262_140, 20],
        [65_536, 65_536],
        [131_000, 140_000],
        [299_990, 100],
        [400_000, 10],
      ] as const) {
        expect((await reader.read(offset, length)).equals(bytes.subarray(offset, offset + length))).toBe(true);
      }
    } finally {
      await reader.close();
    }
  });
});
