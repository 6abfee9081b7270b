// The recovery scan over a big spool (issue 11): `npm run build && node bench/recovery-scan.mjs [N]`
// (N defaults to 100,000). Builds N spool objects and N outcomes (each settled, as in steady state)
// on a real disk — copies of one genuine encrypted object under time-ordered ids, since the scan
// reads names and ages only — and a private Redis that knows every intake job. Then times
// `recover()` (dist/) and samples the heap while it runs. Prints one JSON line; removes everything.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { repoRoot } from './lib/casedrop.mjs';
import { startRedis } from './lib/redis.mjs';

const N = Number(process.argv[2] ?? 100_000);
const dist = (p) => import(join(repoRoot, 'dist', p));
const { loadConfig } = await dist('config/load.js');
const { createLogger } = await dist('log.js');
const { openStore } = await dist('store/open.js');
const { newId } = await dist('ids.js');
const { createRedis } = await dist('redis.js');
const { createQueue } = await dist('jobs/queues.js');
const { recover } = await dist('pipeline/recovery.js');
const { newMasterKeys } = await import('./lib/casedrop.mjs');

const dir = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'casedrop-scan-'));
const redisServer = await startRedis(join(dir, 'redis'));
const prefix = 'scan';
const config = loadConfig({
  NODE_ENV: 'test',
  CASEDROP_DATA_DIR: join(dir, 'data'),
  CASEDROP_MASTER_KEYS: newMasterKeys(),
  CASEDROP_REDIS_URL: redisServer.url,
  CASEDROP_REDIS_PREFIX: prefix,
});
const logger = createLogger('silent');
const store = await openStore(config, logger);
const redis = createRedis(config, 'worker');
try {
  const t0 = Date.now();
  const sample = await store.put('spool', Readable.from([Buffer.alloc(10 * 1024, 0x41)]), { spoolId: 'SAMPLE' }, { name: 'SAMPLE' });
  await store.put('replies', Readable.from([]), {}, { name: 'SAMPLE' });
  const objects = join(config.dataDir, 'objects');
  const src = join(objects, 'spool', 'SAMPLE.cdo');
  const marker = join(objects, 'replies', 'SAMPLE.cdo');
  mkdirSync(join(objects, 'outcomes'), { recursive: true });
  const old = Date.now() - 3_600_000;
  let pipeline = redis.pipeline();
  for (let i = 0; i < N; i++) {
    const id = newId(old + i);
    copyFileSync(src, join(objects, 'spool', `${id}.cdo`));
    const outcome = newId(old + i);
    copyFileSync(src, join(objects, 'outcomes', `${outcome}.cdo`));
    copyFileSync(marker, join(objects, 'replies', `${outcome}.cdo`));
    pipeline.set(`${prefix}:intake:${id}`, '1');
    if (pipeline.length >= 1000) {
      await pipeline.exec();
      pipeline = redis.pipeline();
    }
  }
  await pipeline.exec();
  await store.delete(sample.id);
  const built = Date.now() - t0;

  const intake = createQueue(config, 'intake', redis);
  const notify = createQueue(config, 'notify', redis);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
  const counts = await recover({ store, redis, prefix, intake, notify, logger, minAgeMs: 60_000 });
  clearInterval(sampler);
  console.log(
    JSON.stringify({
      objects: { spool: N, outcomes: N },
      buildSeconds: built / 1000,
      scanMs: counts.ms,
      counts,
      heapGrowthMiB: +((heapPeak - heapBefore) / 2 ** 20).toFixed(1),
      rssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
    }),
  );
  await Promise.all([intake.close(), notify.close()]);
} finally {
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
