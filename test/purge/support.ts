import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
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

/** Compiles src/ once into node_modules/.cache so a child process runs the code under test. */
export function compile(): string {
  const cacheDir = join(import.meta.dirname, '../../node_modules/.cache');
  mkdirSync(cacheDir, { recursive: true });
  const build = mkdtempSync(join(cacheDir, 'casedrop-build-'));
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', build], { stdio: 'pipe' });
  } catch {
    // type errors elsewhere still emit JavaScript; a missing output fails the test
  }
  return build;
}

export function runChild(build: string, vars: Record<string, string>, ...args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [join(build, 'cli/main.js'), ...args], { env: { ...process.env, ...vars }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.resume();
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
