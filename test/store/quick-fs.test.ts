import { pbkdf2 } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EncryptedStore } from '../../src/store/store.js';
import { freshStorePerTest, readAll } from './helpers.js';

let store: EncryptedStore;
freshStorePerTest((fresh) => (store = fresh.store));

/**
 * Fills libuv's thread pool (and its queue) with slow jobs. A file-system call queued behind them
 * gets a thread only once one of them ended, so whatever settles while `ended()` is 0 did not wait
 * for the pool.
 */
function jamThePool(jobs = 16): { ended: () => number; all: Promise<void> } {
  let ended = 0;
  const all = new Promise<void>((resolve) => {
    for (let i = 0; i < jobs; i++) pbkdf2('x', 'salt', 200_000, 32, 'sha256', () => ++ended === jobs && resolve());
  });
  return { ended: () => ended, all };
}

describe('small reads do not wait for the thread pool (src/store/quick-fs.ts)', () => {
  it('exists, head and get of a small object finish while every pool thread is busy', async () => {
    const body = Buffer.from('a small object: a note, an outcome, a marker');
    const { id } = await store.put('cases/612345678', Readable.from([body]), { kind: 'note' });
    const jam = jamThePool();
    expect(await store.exists(id)).toBe(true);
    expect(await store.exists('cases/612345678/missing')).toBe(false);
    expect((await store.head(id)).size).toBe(body.length);
    expect((await readAll(store, id)).equals(body)).toBe(true);
    expect(jam.ended()).toBe(0);
    await jam.all;
  });
});
