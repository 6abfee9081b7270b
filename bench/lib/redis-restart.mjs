// Restarts a private Redis (see redis.mjs) where it was: the same port, so clients configured with
// its URL reconnect on their own, and the same directory, so it reloads its AOF. Used by the fault
// test that stops Redis mid-load (test/faults/redis-outage.test.ts).
import { join } from 'node:path';
import { spawnLogged, stopChild, waitUntil } from './procs.mjs';
import { redisArgs, redisCommand } from './redis.mjs';

/**
 * Starts redis-server on `port` in `dir` with the settings startRedis uses (AOF on, no RDB,
 * noeviction). Resolves once it answers PING, i.e. once the AOF is loaded (Redis answers
 * -LOADING until then). Returns the same shape as startRedis.
 */
export async function restartRedis(dir, port, { appendfsync = 'everysec', timeoutMs = 15_000 } = {}) {
  const child = spawnLogged('redis-server', redisArgs(dir, port, appendfsync), { logFile: join(dir, 'redis.log') });
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) on restart; see ${join(dir, 'redis.log')}`);
      return (await redisCommand(port, 'PING').catch(() => '')) === '+PONG';
    },
    { timeoutMs, intervalMs: 50, what: `redis to come back on ${port}` },
  );
  return { port, url: `redis://127.0.0.1:${port}`, child, pid: child.pid, stop: () => stopChild(child, 5_000) };
}
