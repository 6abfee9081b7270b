import { spawn } from 'node:child_process';
import { inject } from 'vitest';
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { createContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';

/** The CLI in this process (stdout lines captured) and as a real child process that can die. */
export function cliEnv(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    CASEDROP_REDIS_PREFIX: config.redisPrefix,
    CASEDROP_DATA_DIR: config.dataDir,
    CASEDROP_LOG_LEVEL: 'silent',
    CASEDROP_MASTER_KEYS: config.masterKeys ?? '',
    CASEDROP_OPERATOR: 'op.bob',
    ...extra,
  };
}

export async function cli(vars: Record<string, string>, ...args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await main(
    ['node', 'casedrop', ...args],
    createContext(vars, (l) => void lines.push(l)),
  );
  return { code, lines };
}

/** src/ compiled once per test run (test/build-once.ts), so a child process runs the code under test. */
export function compile(): string {
  return inject('testBuild');
}

export function runChild(build: string, vars: Record<string, string>, ...args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [join(build, 'cli/main.js'), ...args], { env: { ...process.env, ...vars }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.resume();
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
