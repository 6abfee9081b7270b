import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startNotifyWorkers, type NotifyWorkers } from '../../src/notify/index.js';
import { sweepExpiredUploads } from '../../src/upload/resume.js';
import { CASE, startUploadEnv, type UploadEnv } from './helpers.js';

/** upload.completed / upload.rejected / upload.expired reach a webhook receiver, signed, through the notify stage. */
const SECRET = 'whsec-test';
const received: Array<{ body: Record<string, unknown>; signature: string; raw: string }> = [];
let receiver: Server;
let env: UploadEnv;
let workers: NotifyWorkers;
let token: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      received.push({ body: JSON.parse(raw) as Record<string, unknown>, signature: String(req.headers['x-casedrop-signature']), raw });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const port = (receiver.address() as AddressInfo).port;
  env = await startUploadEnv({ CASEDROP_WEBHOOK_URLS: `http://127.0.0.1:${port}/hook`, CASEDROP_WEBHOOK_SECRET: SECRET });
  workers = startNotifyWorkers({ config: env.config, logger: createLogger('silent'), store: env.store, registry: env.registry });
  await env.registry.open(CASE, 'eng@example.com');
  token = (await env.tokens.create(CASE, { label: 'hooks', expiresInSeconds: 3600 })).secret;
});

afterAll(async () => {
  await workers.close();
  await env.close();
  receiver.close();
});

const put = (name: string, body: Buffer, headers: Record<string, string> = {}) =>
  fetch(`${env.base}/home/${name}`, { method: 'PUT', body: new Uint8Array(body), headers: { authorization: `Bearer ${token}`, ...headers } });

function eventNamed(name: string) {
  return vi.waitFor(
    () => {
      const found = received.find((r) => r.body.event === name);
      expect(found).toBeDefined();
      return found!;
    },
    { timeout: 20_000 },
  );
}

describe('upload webhooks', () => {
  it('upload.completed carries the signed receipt, and the POST is signed with the webhook secret', async () => {
    expect((await put('hook.bin', randomBytes(1000))).status).toBe(201);
    const hit = await eventNamed('upload.completed');
    expect(hit.body).toMatchObject({ case: CASE, receipt: { name: 'hook.bin', size: 1000, tokenLabel: 'hooks', channel: 'https' } });
    const [t, v1] = hit.signature.split(',').map((p) => p.split('=')[1]);
    expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${hit.raw}`).digest('hex'));
  });

  it('upload.rejected says why nothing was kept', async () => {
    expect((await put('bad.bin', randomBytes(1000), { 'content-digest': `sha-256=:${Buffer.alloc(32).toString('base64')}:` })).status).toBe(422);
    expect((await eventNamed('upload.rejected')).body).toMatchObject({ case: CASE, name: 'bad.bin', reason: 'digest-mismatch', tokenLabel: 'hooks' });
  });

  it('upload.expired reports how far an abandoned upload got', async () => {
    const deps = env.listener.deps.put;
    const now = new Date();
    await deps.partials.save({
      id: 'EXPIREDUPLOAD1',
      caseNumber: CASE,
      tokenId: 't',
      tokenLabel: 'hooks',
      name: 'old.bin',
      length: 5000,
      createdAt: now.toISOString(),
      expiresAt: now.toISOString(),
      clientAddress: '127.0.0.1',
    });
    expect(await sweepExpiredUploads(deps, createLogger('silent'), new Date(now.getTime() + 1000))).toBe(1);
    expect((await eventNamed('upload.expired')).body).toMatchObject({ case: CASE, name: 'old.bin', offset: 0, length: 5000 });
  });
});
