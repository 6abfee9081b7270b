import type { Redis } from 'ioredis';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { createRedis } from '../redis.js';
import { RedisCaseRegistry } from '../cases/registry.js';
import type { CaseRegistry } from '../cases/types.js';
import { terminalText } from './terminal.js';

/** Usage errors exit 2, everything else 1, always with one line on stderr. */
export class UsageError extends Error {}

/** A command that has already said everything and only needs its exit status (e.g. `verify` → 1). */
export class ExitStatus extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export interface CliContext {
  config(): Config;
  logger(): Logger;
  /** A fail-fast Redis connection (a CLI must not hang when Redis is down). */
  redis(): Redis;
  registry(): CaseRegistry;
  out(line: string): void;
  /** Releases whatever the command opened, so the process can exit. */
  close(): Promise<void>;
}

/** Everything is opened lazily so commands that need nothing (`verify`, `keygen`) run without it. */
export function createContext(env: NodeJS.ProcessEnv = process.env, out: (line: string) => void = (l) => void process.stdout.write(`${l}\n`)): CliContext {
  let config: Config | undefined;
  let logger: Logger | undefined;
  let redis: Redis | undefined;
  const ctx: CliContext = {
    config: () => (config ??= loadConfig(env)),
    // CLI logs go to stderr so command output stays machine-readable
    logger: () => (logger ??= createLogger(ctx.config().logLevel, process.stderr)),
    redis: () => (redis ??= createRedis(ctx.config(), 'cli')),
    registry: () => new RedisCaseRegistry(ctx.redis(), ctx.config().redisPrefix, ctx.config().caseDigits),
    // every line a command prints may hold customer text: escape what a terminal would obey
    out: (line) => out(terminalText(line)),
    close: async () => {
      if (redis) await redis.quit().catch(() => redis?.disconnect());
      redis = undefined;
    },
  };
  return ctx;
}
