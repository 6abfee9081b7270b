import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { serve, type Running } from '../../src/serve.js';
import { testConfig } from '../helpers/env.js';

/**
 * A split deployment: an SMTP door and a worker run apart, each with its own ops port serving
 * /healthz and /metrics, so every process can be scraped and checked on its own.
 */
let config: Config;
let cleanup: () => Promise<void>;
const running: Running[] = [];

beforeAll(async () => {
  ({ config, cleanup } = testConfig({ CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0' }));
});

afterAll(async () => {
  for (const r of running) await r.stop();
  await cleanup?.();
});

describe.each(['smtp', 'worker'] as const)('serve --role %s', (role) => {
  it('listens on its own ops port with /healthz and /metrics, and on no HTTP port', async () => {
    const r = await serve(config, role, createLogger('silent'));
    running.push(r);
    expect(r.opsPort).toBeGreaterThan(0);
    expect(r.httpPort).toBeUndefined();
    const health = await fetch(`http://127.0.0.1:${r.opsPort}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const metrics = await fetch(`http://127.0.0.1:${r.opsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^casedrop_process_cpu_seconds_total /m);
  });
});

describe('serve --role all', () => {
  it('serves the ops endpoints on the HTTP port only', async () => {
    const r = await serve(config, 'all', createLogger('silent'));
    running.push(r);
    expect(r.opsPort).toBeUndefined();
    expect((await fetch(`http://127.0.0.1:${r.httpPort}/healthz`)).status).toBe(200);
  });
});
