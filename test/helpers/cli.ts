import { createContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import type { Config } from '../../src/config/schema.js';

/** Runs `casedrop <args>` in this process against a test config; returns the exit code and the lines printed. */
export function cliRunner(config: Pick<Config, 'redisPrefix' | 'dataDir'>): (...args: string[]) => Promise<{ code: number; out: string[] }> {
  const env = { CASEDROP_REDIS_PREFIX: config.redisPrefix, CASEDROP_DATA_DIR: config.dataDir, CASEDROP_LOG_LEVEL: 'silent' };
  return async (...args) => {
    const out: string[] = [];
    const code = await main(
      ['node', 'casedrop', ...args],
      createContext(env, (l) => out.push(l)),
    );
    return { code, out };
  };
}
