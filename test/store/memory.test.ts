import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { testConfig } from '../helpers/env.js';
import { storeWith } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TOTAL = 200 * 1024 * 1024;
const PIECE = 1024 * 1024;
const LIMIT = 64 * 1024 * 1024;

let env: { config: Config; cleanup: () => Promise<void> };
beforeAll(() => {
  env = testConfig();
});
afterAll(() => env.cleanup());

/** Live memory (JS heap + Buffers) after a full GC: what the store keeps, not what it churns. */
function live(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

it('streams 200 MB in and out with bounded memory', async () => {
  const store = storeWith(env.config);
  await store.init();
  const base = live();
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, live() - base);
  };
  const block = randomBytes(PIECE);
  async function* body() {
    for (let i = 0; i < TOTAL / PIECE; i++) {
      if (i % 16 === 0) sample();
      const piece = Buffer.from(block);
      piece.writeUInt32BE(i, 0);
      yield piece;
    }
  }
  const put = await store.put('spool', Readable.from(body()), {});
  expect(put.size).toBe(TOTAL);

  const hash = createHash('sha256');
  let seen = 0;
  for await (const c of await store.get(put.id)) {
    hash.update(c as Buffer);
    seen += (c as Buffer).length;
    if (seen % (16 * PIECE) === 0) sample();
  }
  sample();
  expect(seen).toBe(TOTAL);
  expect(hash.digest('hex')).toBe(put.sha256);
  expect(peak).toBeLessThan(LIMIT);
}, 120_000);
