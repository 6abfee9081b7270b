import { userInfo } from 'node:os';
import type { Redis } from 'ioredis';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { createRedis } from '../redis.js';
import { caseRegistry } from '../cases/registry.js';
import { openStore } from '../store/open.js';
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
  /** Who runs the command, for notes and the audit trail: `--operator`, else $CASEDROP_OPERATOR, else the OS user. */
  operator(explicit?: string): string;
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
    registry: () => lazyRegistry(async () => caseRegistry(await openStore(ctx.config(), ctx.logger()), ctx.redis(), ctx.config(), ctx.logger())),
    // every line a command prints may hold customer text: escape what a terminal would obey
    out: (line) => out(terminalText(line)),
    operator: (explicit) => explicit ?? (env.CASEDROP_OPERATOR || undefined) ?? osUser(),
    close: async () => {
      if (redis) await redis.quit().catch(() => redis?.disconnect());
      redis = undefined;
    },
  };
  return ctx;
}

/** The registry needs the store, which opens asynchronously; commands call it synchronously. */
function lazyRegistry(make: () => Promise<CaseRegistry>): CaseRegistry {
  let made: Promise<CaseRegistry> | undefined;
  const r = () => (made ??= make());
  return {
    get: async (n) => (await r()).get(n),
    open: async (n, owner) => (await r()).open(n, owner),
    close: async (n) => (await r()).close(n),
    reopen: async (n) => (await r()).reopen(n),
    list: async (state) => (await r()).list(state),
  };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}
