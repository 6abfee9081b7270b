import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createContext } from '../../src/cli/context.js';
import { cliRunner } from '../helpers/cli.js';
import { testConfig } from '../helpers/env.js';

describe('casedrop case', () => {
  const { config, cleanup } = testConfig();
  const env = { CASEDROP_REDIS_PREFIX: config.redisPrefix, CASEDROP_DATA_DIR: config.dataDir, CASEDROP_LOG_LEVEL: 'silent' };
  afterAll(cleanup);
  const run = cliRunner(config);

  it('opens, shows, closes, reopens and lists', async () => {
    expect((await run('case', 'open', '612345678', '--owner', 'eng@example.com')).code).toBe(0);
    const shown = await run('case', 'show', '612345678');
    expect(shown.out[0]).toMatch(/^612345678\topen\teng@example\.com\t/);
    expect((await run('case', 'close', '612345678')).out[0]).toMatch(/\tclosed\t/);
    expect((await run('case', 'list', '--state', 'closed')).out).toHaveLength(1);
    expect((await run('case', 'reopen', '612345678')).out[0]).toMatch(/\topen\t/);
    expect((await run('case', 'list', '--state', 'closed')).out).toHaveLength(0);
    expect((await run('case', 'list')).out).toHaveLength(1);
  });

  it('a case number of the wrong shape is a usage error (exit 2)', async () => {
    expect((await run('case', 'show', '12345')).code).toBe(2);
    expect((await run('case', 'open', '1234567890', '--owner', 'e@example.com')).code).toBe(2);
    expect((await run('case', 'list', '--state', 'pending')).code).toBe(2);
  });

  it('a missing required option is a usage error and an unknown case a failure', async () => {
    expect((await run('case', 'open', '612345679')).code).toBe(2);
    expect((await run('case', 'show', '699999998')).code).toBe(1);
  });

  it('fails fast with exit 1 when Redis is unreachable: one try, no reconnecting', async () => {
    // a "Redis" that hangs up on every connection, counting them (work bounded, no stopwatch)
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `redis://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const code = await main(
        ['node', 'casedrop', 'case', 'show', '612345678'],
        createContext({ ...env, CASEDROP_REDIS_URL: url }, () => undefined),
      );
      expect(code).toBe(1);
      expect(connections).toBe(1);
    } finally {
      server.close();
    }
  });

  it('--help exits 0', async () => {
    expect((await run('case', '--help')).code).toBe(0);
  });
});
