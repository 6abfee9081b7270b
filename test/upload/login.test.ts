import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry as metrics } from '../../src/metrics.js';
import { startUploadListener } from '../../src/upload/server.js';
import { CASE, run, startUploadEnv, type UploadEnv } from './helpers.js';

let env: UploadEnv;
let token: string;

beforeAll(async () => {
  env = await startUploadEnv({ CASEDROP_UPLOAD_LOGIN_FAILURES_PER_ADDRESS: '3', CASEDROP_UPLOAD_LOGIN_WINDOW_SECONDS: '600' });
  await env.registry.open(CASE, 'eng@example.com');
  token = (await env.tokens.create(CASE, { label: 'ok', expiresInSeconds: 3600 })).secret;
});
afterAll(() => env.close());

const put = (secret: string) =>
  fetch(`${env.base}/home/a.bin`, { method: 'PUT', body: 'x', headers: { authorization: `Basic ${Buffer.from(`${CASE}:${secret}`).toString('base64')}` } });

describe('the listener without a certificate', () => {
  it('refuses to listen on a non-loopback address', async () => {
    await expect(startUploadListener({ ...listenerDeps(env), config: { ...env.config, uploadHost: '0.0.0.0' } })).rejects.toThrow(/not a loopback address/);
  });

  it('says loudly at start that uploads are plain HTTP', () => {
    expect(env.logLines.join('')).toMatch(/"level":40.*UPLOADS ARE PLAIN HTTP/);
  });
});

describe('the listener with a certificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'casedrop-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves HTTPS: curl uploads with --cacert', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = await startUploadListener({ ...listenerDeps(env), config: { ...env.config, uploadPort: 0, uploadTlsCert: cert, uploadTlsKey: key } });
    try {
      expect(tls.tls).toBe(true);
      const good = (await env.tokens.create(CASE, { label: 'tls', expiresInSeconds: 3600 })).secret;
      const { stdout } = await run('curl', [
        '-sS',
        '--cacert',
        cert,
        '-T',
        cert,
        '--user',
        `${CASE}:${good}`,
        '-w',
        '\n%{http_code}',
        `https://127.0.0.1:${tls.port}/home/cert.pem`,
      ]);
      expect(stdout.trimEnd().split('\n').pop()).toBe('201');
    } finally {
      await tls.stop(1000);
    }
  });
});

// last: it blocks this test's address
describe('brute force of a token', () => {
  it('after the threshold every login from the address gets 429 with Retry-After, the right token too', async () => {
    for (let i = 0; i < 3; i++) expect((await put(`cdu_${String(i).repeat(32)}`)).status).toBe(401);
    const blocked = await put(token);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(((await blocked.json()) as { message: string }).message).toMatch(/try again in \d+ seconds/);
    expect(env.logLines.join('')).toMatch(/"event":"upload_login_blocked"/);
    expect(env.logLines.join('')).not.toContain(token);
    expect(await metrics.getSingleMetricAsString('casedrop_upload_login_failures_total')).toMatch(/ [3-9]\d*$/m);
  });
});

/** the running listener's own wiring, reused for a second listener with other settings */
const listenerDeps = (e: UploadEnv) => e.listener.deps;
