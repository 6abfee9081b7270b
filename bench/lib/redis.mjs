// A private redis-server for one run: its own free port, its own directory, AOF on (as casedrop
// must run in production), no RDB snapshots. Nothing is shared with the Redis on 6379.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { freePort, spawnLogged, stopChild, waitUntil } from './procs.mjs';
import { createConnection } from 'node:net';

/**
 * Starts redis-server in `dir` (created if needed). Returns { port, url, child, pid, stop, ping }.
 * `appendfsync` defaults to everysec, Redis's own default and what the compose file uses.
 */
export async function startRedis(dir, { appendfsync = 'everysec' } = {}) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawnLogged('redis-server', redisArgs(dir, port, appendfsync), { logFile: join(dir, 'redis.log') });
  const url = `redis://127.0.0.1:${port}`;
  await waitUntil(async () => (await redisCommand(port, 'PING').catch(() => '')) === '+PONG', { timeoutMs: 15_000, what: `redis on ${port}` });
  return { port, url, child, pid: child.pid, stop: () => stopChild(child, 5_000) };
}

/** The settings every private Redis runs with: AOF on, no RDB, noeviction, loopback only. */
export function redisArgs(dir, port, appendfsync) {
  const settings = {
    bind: '127.0.0.1',
    port: String(port),
    dir,
    appendonly: 'yes',
    appendfsync,
    save: '',
    'maxmemory-policy': 'noeviction',
    daemonize: 'no',
    'protected-mode': 'yes',
  };
  return Object.entries(settings).flatMap(([name, value]) => [`--${name}`, value]);
}

/** Sends one inline command and returns the first reply line (enough for PING / LLEN / ZCARD). */
export function redisCommand(port, command) {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    s.setTimeout(5_000, () => {
      s.destroy();
      reject(new Error('redis timeout'));
    });
    s.once('error', reject);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) {
        s.end();
        resolve(buf.slice(0, nl));
      }
    });
    s.write(`${command}\r\n`);
  });
}
