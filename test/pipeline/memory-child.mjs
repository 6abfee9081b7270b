// Child process of memory.test.ts: spools one message file and runs the intake job on it, sampling
// resident memory every millisecond. Prints one JSON line with the figures. Run with --expose-gc.
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';

const [eml] = process.argv.slice(2);
const dir = process.env.BUILD_DIR;
const imp = (p) => import(join(dir, p));
const { loadConfig } = await imp('config/load.js');
const { createLogger } = await imp('log.js');
const { createRedis } = await imp('redis.js');
const { openStore } = await imp('store/open.js');
const { caseRegistry } = await imp('cases/registry.js');
const { processIntake } = await imp('pipeline/intake.js');
const { redisNameRegistry } = await imp('pipeline/stored-names.js');
const { startParsePool } = await imp('pipeline/isolate.js');

const { verify } = await imp('verify/index.js');

const config = loadConfig(process.env);
const logger = createLogger('silent');
const redis = createRedis(config, 'worker');
const store = await openStore(config, logger);
const registry = caseRegistry(store, redis, config, logger);
await registry.open('612345678', 'engineer@example.com');
const spoolId = 'MEMORYTEST';
const meta = {
  spoolId,
  caseNumber: '612345678',
  receivedAt: new Date().toISOString(),
  mailFrom: 'customer@example.com',
  rcptTo: ['attach@localhost'],
  clientAddress: '127.0.0.1',
  sessionId: 's',
  automatic: false,
};
await store.put('spool', createReadStream(eml), meta, { name: spoolId });
const notify = { add: async () => undefined };

// Two figures: resident memory (what the OS sees, but pages freed earlier are reused without
// showing) and live JavaScript memory, heap plus Buffers (what the job itself holds, garbage
// included until it is collected).
const live = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
// the parse thread is started before the baseline: the service keeps its threads, so loading the
// parser there is a cost of the process, not of a message
const pool = startParsePool(config, logger);
await pool.warm();
global.gc();
const baseline = process.memoryUsage().rss;
const liveBaseline = live();
let peak = baseline;
let livePeak = liveBaseline;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
  livePeak = Math.max(livePeak, live());
};
const sampler = setInterval(sample, 1);
// parsed in a parse thread, as the service does: its heap and the attachment bytes it moves back count too
const outcome = await processIntake(spoolId, {
  config,
  store,
  registry,
  verify,
  notify,
  logger,
  names: redisNameRegistry(redis, config.redisPrefix),
  analyse: pool.analyse,
});
await pool.close();
clearInterval(sampler);
sample();
process.stdout.write(
  `${JSON.stringify({
    messageBytes: statSync(eml).size,
    baselineRss: baseline,
    peakRss: peak,
    peakAboveBaseline: peak - baseline,
    livePeakAboveBaseline: livePeak - liveBaseline,
    maxRss: process.resourceUsage().maxRSS * 1024,
    kind: outcome.kind,
    stored: outcome.stored.map((f) => f.size),
  })}\n`,
);
redis.disconnect();
