import type { Logger } from './log.js';

/** Something a role started that must be stopped on shutdown, within the grace period. */
export interface Stoppable {
  name: string;
  stop(graceMs: number): Promise<void>;
}

/**
 * Stops in the order given (doors first, so no new work arrives while workers drain), each within
 * what is left of the grace period; a part that overruns is abandoned, not waited for.
 */
export async function stopAll(parts: Stoppable[], graceMs: number, logger: Logger): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  let clean = true;
  for (const part of parts) {
    const left = Math.max(0, deadline - Date.now());
    const stopped = await Promise.race([
      part.stop(left).then(
        () => true,
        (err: unknown) => {
          logger.error({ err, part: part.name }, 'error while stopping');
          return false;
        },
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), left + 50).unref()),
    ]);
    if (!stopped) {
      clean = false;
      logger.warn({ part: part.name }, 'did not stop within the grace period');
    }
  }
  return clean;
}

/** First SIGTERM/SIGINT starts a graceful stop; a second one exits at once. */
export function onShutdownSignal(handler: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      void handler(signal);
    });
  }
}
