import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CASE, caseFiles, startUploadEnv, type UploadEnv } from './helpers.js';

/**
 * 50 clients that log in, send a few bytes and stall: a normal upload still goes through at once,
 * the stalled ones are closed by the idle timeout (no request timeout exists), and none of them
 * becomes a case file.
 */
let env: UploadEnv;
let token: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  env = await startUploadEnv({ CASEDROP_UPLOAD_IDLE_TIMEOUT_MS: '1500' });
  await env.registry.open(CASE, 'eng@example.com');
  token = (await env.tokens.create(CASE, { label: 'slow', expiresInSeconds: 3600 })).secret;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await env.close();
});

describe('50 slow clients', () => {
  it('do not hold up a normal upload and are closed when idle', async () => {
    const closed = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const s = connect(env.listener.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closed.add(i));
      s.write(`PUT /home/slow-${i}.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000000\r\n\r\n`);
      s.write(randomBytes(100));
      sockets.push(s);
    }
    const body = randomBytes(2 << 20);
    const res = await fetch(`${env.base}/home/normal.bin`, { method: 'PUT', body: new Uint8Array(body), headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { sha256: string }).sha256).toBe(createHash('sha256').update(body).digest('hex'));
    await vi.waitFor(() => expect(closed.size).toBe(50), { timeout: 30_000, interval: 200 });
    const files = await caseFiles(env);
    expect(files).toHaveLength(1);
  });
});
