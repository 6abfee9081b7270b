import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCasedrop, type RunningCasedrop } from '../../../bench/lib/casedrop.mjs';
import { startRedis, type PrivateRedis } from '../../../bench/lib/redis.mjs';
import { CASE, INTAKE, UNCAPPED_REPLIES } from './mail.js';

/**
 * One casedrop instance for a fault test: its own redis-server (free port, AOF on, directory
 * `<dir>/redis`), the front door and the worker as separate processes on `<dir>/data`, and the
 * test case opened. The settings every fault test shares are here; `overrides` adds the scenario's.
 */
export interface FaultSystem {
  dir: string;
  redisDir: string;
  redis: PrivateRedis;
  casedrop: RunningCasedrop;
  prefix: string;
  stop(): Promise<void>;
}

export function baseSettings(): Record<string, string> {
  return {
    CASEDROP_INTAKE_ADDRESSES: INTAKE,
    CASEDROP_LOG_LEVEL: 'info',
    // a new connection per message: no 100 ms pause before each greeting
    CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0',
    // every 250 must lead to a receipt: the outbox is part of the ledger check
    ...UNCAPPED_REPLIES,
    CASEDROP_JOB_BACKOFF_MS: '200',
    CASEDROP_JOB_ATTEMPTS: '20',
  };
}

export async function startSystem(dir: string, prefix: string, overrides: Record<string, string> = {}, roles = ['smtp', 'worker']): Promise<FaultSystem> {
  const redisDir = join(dir, 'redis');
  const redis = await startRedis(redisDir);
  let casedrop: RunningCasedrop | undefined;
  try {
    casedrop = await startCasedrop(dir, { redisUrl: redis.url, prefix, roles, overrides: { ...baseSettings(), ...overrides } });
    await runCli(casedrop.env, ['case', 'open', CASE, '--owner', 'eng@example.com']);
  } catch (err) {
    await casedrop?.stop();
    await redis.stop();
    throw err;
  }
  const system: FaultSystem = {
    dir,
    redisDir,
    redis,
    casedrop,
    prefix,
    // `redis` may have been replaced by a restart: stop whichever runs now
    stop: async () => {
      await casedrop.stop();
      await system.redis.stop();
    },
  };
  return system;
}

/** The last lines of a process's log, for a failure message. */
export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Log lines (pino JSON) of one process that match `pattern`. */
export function logLines(file: string, pattern: RegExp): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => pattern.test(l));
  } catch {
    return [];
  }
}
