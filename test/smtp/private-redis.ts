import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnLogged, stopChild, waitForPort, type LoggedChild } from '../../bench/lib/procs.mjs';

/**
 * A redis-server of one test, on a free port, with no persistence (`--save '' --appendonly no`):
 * the outage tests stop it mid-test and start it again, empty, on the same port.
 */
export interface PrivateRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  remove(): Promise<void>;
}

export async function privateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'casedrop-redis-'));
  const port = await freePort();
  let child: LoggedChild | undefined;
  const start = async () => {
    child = spawnLogged(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { logFile: join(dir, 'redis.log') },
    );
    await waitForPort(port, { timeoutMs: 15_000, child });
  };
  const stop = async () => {
    await stopChild(child, 5_000);
    child = undefined;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
