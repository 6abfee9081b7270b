import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON logger per process; stages take child loggers carrying their session or job id.
 * Redaction is a second line of defence: the first is never passing keys, tokens or bodies in.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['*.password', '*.pass', '*.token', '*.key', '*.masterKeys', '*.secret'], censor: '[redacted]' },
    },
    destination,
  );
}
