// Child process of worker-process.ts (the worker-crash and worker-poison tests): one intake worker on the compiled build (BUILD_DIR), with
// the configuration from the environment. CASEDROP_TEST_CRASH_AT makes it exit 137 at that step.

import { join } from 'node:path';

const dir = process.env.BUILD_DIR;
const imp = (p) => import(join(dir, p));
const { loadConfig } = await imp('config/load.js');
const { createLogger } = await imp('log.js');
const { createRedis } = await imp('redis.js');
const { openStore } = await imp('store/open.js');
const { caseRegistry } = await imp('cases/registry.js');
const { startIntakeWorker } = await imp('pipeline/worker.js');

const { verify } = await imp('verify/index.js');

const config = loadConfig(process.env);
const logger = createLogger('silent');
const redis = createRedis(config, 'worker');
const store = await openStore(config, logger);
const worker = startIntakeWorker({ config, logger, store, registry: caseRegistry(store, redis, config, logger), verify, redis });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
