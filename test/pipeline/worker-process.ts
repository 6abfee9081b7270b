import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Config } from '../../src/config/schema.js';

/**
 * An intake worker in a process of its own (crash-worker.mjs) on the compiled build, so a test can
 * let it die (CASEDROP_TEST_CRASH_AT: exit 137, like kill -9) and start another on the same store.
 */
export function runWorker(vars: Record<string, string>): { child: ChildProcess; exited: Promise<number | null> } {
  // src/ compiled once per test run (test/build-once.ts): the child runs plain node, no TypeScript loader
  const child = spawn(process.execPath, [join(import.meta.dirname, 'crash-worker.mjs')], {
    env: { ...process.env, ...vars, BUILD_DIR: inject('testBuild') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { child, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

/** The environment of a worker process on the test's store and Redis prefix, with `settings` on top. */
export function workerVars(config: Config, settings: Record<string, string>): Record<string, string> {
  return {
    ...settings,
    NODE_ENV: 'test',
    CASEDROP_DATA_DIR: config.dataDir,
    CASEDROP_REDIS_PREFIX: config.redisPrefix,
    CASEDROP_MASTER_KEYS: config.masterKeys ?? '',
    CASEDROP_LOG_LEVEL: 'silent',
  };
}
