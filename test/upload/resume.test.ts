import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readParts } from '../../src/intake/parts.js';
import { registry as metrics } from '../../src/metrics.js';
import { sweepExpiredUploads } from '../../src/upload/resume.js';
import { readAll } from '../pipeline/helpers.js';
import { CASE, caseFiles, run, startUploadEnv, type UploadEnv } from './helpers.js';

/**
 * Plain-curl resume. npm test uses a 64 MiB file (the fault suite's bench sizes are for the bench):
 * the PUT is cut at a random point by closing the socket, HEAD tells the offset, curl PATCHes the
 * rest from a pipe, and the stored file has the original's SHA-256.
 */
const SIZE = 64 << 20;
let env: UploadEnv;
let token: string;
let other: string;
const dir = mkdtempSync(join(tmpdir(), 'casedrop-resume-'));
const file = join(dir, 'core.bin');
let sha = '';
/**
 * How long a cut upload may take to be kept (its segment fsynced): vi.waitFor's default of 1 s is
 * a wall-clock limit that a loaded machine misses, so the wait is bounded generously instead.
 */
const KEPT = { timeout: 60_000, interval: 100 };

beforeAll(async () => {
  env = await startUploadEnv();
  await env.registry.open(CASE, 'eng@example.com');
  token = (await env.tokens.create(CASE, { label: 'dev', expiresInSeconds: 3600 })).secret;
  other = (await env.tokens.create(CASE, { label: 'colleague', expiresInSeconds: 3600 })).secret;
  const hash = createHash('sha256');
  const block = randomBytes(1 << 20);
  const blocks: Buffer[] = [];
  for (let i = 0; i < SIZE >> 20; i++) blocks.push(Buffer.from(block.map((b) => b ^ i)));
  const all = Buffer.concat(blocks);
  writeFileSync(file, all);
  sha = hash.update(all).digest('hex');
});

afterAll(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A PUT whose connection dies after `cutAt` bytes of body. */
function cutPut(name: string, cutAt: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(env.listener.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.write(`PUT /home/${name} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${SIZE}\r\nExpect: 100-continue\r\n\r\n`);
    socket.once('data', (d) => {
      if (!d.toString().startsWith('HTTP/1.1 100')) return reject(new Error(d.toString()));
      const body = createReadStream(file, { end: cutAt - 1 });
      body.pipe(socket, { end: false });
      body.on('end', () => socket.destroy());
    });
  });
}

async function offsetOf(name: string, secret = token): Promise<{ status: number; offset: number }> {
  const { stdout } = await run('curl', ['-sS', '-I', '--user', `${CASE}:${secret}`, '-w', '%{http_code}', `${env.base}/home/${name}`]);
  const m = /upload-offset: (\d+)/i.exec(stdout);
  return { status: Number(stdout.trim().split('\n').pop()), offset: m ? Number(m[1]) : -1 };
}

describe('resume a cut PUT with curl (HEAD + PATCH)', () => {
  it('a 64 MiB upload cut at a random point and resumed ends with the right SHA-256', async () => {
    const cutAt = randomInt(1 << 20, SIZE - (1 << 20));
    await cutPut('core.bin', cutAt);
    const { offset } = await vi.waitFor(async () => {
      const r = await offsetOf('core.bin');
      expect(r.status).toBe(200);
      return r;
    }, KEPT);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThanOrEqual(cutAt);
    expect(await caseFiles(env)).toEqual([]);
    // another token of the same case cannot see it (upload-only)
    expect((await offsetOf('core.bin', other)).status).toBe(404);
    // what a customer types: the rest of the file from a pipe
    const { stdout } = await run(
      'sh',
      [
        '-c',
        `tail -c +${offset + 1} "$0" | curl -sS -X PATCH -T - -H "Upload-Offset: ${offset}" --user "$1" "$2"`,
        file,
        `${CASE}:${token}`,
        `${env.base}/home/core.bin`,
      ],
      { maxBuffer: 1 << 20 },
    );
    const receipt = JSON.parse(stdout) as { size: number; sha256: string; name: string; signature: string };
    expect(receipt).toMatchObject({ size: SIZE, sha256: sha, name: 'core.bin' });
    expect(receipt.signature).toMatch(/^ey/);
    const [id] = await caseFiles(env);
    const parts = (await env.store.head(id!)).meta.parts as string[];
    expect(parts.length).toBe(2);
    const got = createHash('sha256')
      .update(await readAll(readParts(env.store, parts)))
      .digest('hex');
    expect(got).toBe(sha);
    expect((await offsetOf('core.bin')).status).toBe(404);
  });

  it('a PATCH at the wrong offset is 409 with the right one; a second cut resumes again', async () => {
    const name = 'twice.bin';
    await cutPut(name, 3 << 20);
    const first = await vi.waitFor(async () => {
      const r = await offsetOf(name);
      expect(r.status).toBe(200);
      return r.offset;
    }, KEPT);
    const wrong = await fetch(`${env.base}/home/${name}`, {
      method: 'PATCH',
      body: 'x',
      headers: { authorization: `Bearer ${token}`, 'upload-offset': String(first + 1) },
    });
    expect(wrong.status).toBe(409);
    expect(wrong.headers.get('upload-offset')).toBe(String(first));
    // send 1 MiB more, then the rest
    const mid = first + (1 << 20);
    const step = await run('sh', [
      '-c',
      `tail -c +${first + 1} "$0" | head -c ${1 << 20} | curl -sS -o /dev/null -w '%{http_code}' -X PATCH -T - -H "Upload-Offset: ${first}" --user "$1" "$2"`,
      file,
      `${CASE}:${token}`,
      `${env.base}/home/${name}`,
    ]);
    expect(step.stdout).toBe('204');
    expect((await offsetOf(name)).offset).toBe(mid);
    const done = await run(
      'sh',
      [
        '-c',
        `tail -c +${mid + 1} "$0" | curl -sS -X PATCH -T - -H "Upload-Offset: ${mid}" --user "$1" "$2"`,
        file,
        `${CASE}:${token}`,
        `${env.base}/home/${name}`,
      ],
      { maxBuffer: 1 << 20 },
    );
    expect(JSON.parse(done.stdout)).toMatchObject({ size: SIZE, sha256: sha });
  });

  it('unfinished uploads expire: segments and record removed, with a log line and the metric', async () => {
    await cutPut('stale.bin', 2 << 20);
    await vi.waitFor(async () => expect((await offsetOf('stale.bin')).status).toBe(200), KEPT);
    const put = env.listener.deps as unknown as { put: Parameters<typeof sweepExpiredUploads>[0] };
    const before = await env.store.list('uploads/');
    expect(
      await sweepExpiredUploads(
        put.put,
        { info: (o: object, m: string) => env.logLines.push(JSON.stringify({ ...o, msg: m })) } as never,
        new Date(Date.now() + 8 * 86_400_000),
      ),
    ).toBe(1);
    expect((await offsetOf('stale.bin')).status).toBe(404);
    expect((await env.store.list('uploads/')).length).toBeLessThan(before.length);
    expect(env.logLines.join('')).toMatch(/"event":"upload_expired"/);
    expect(await metrics.getSingleMetricAsString('casedrop_uploads_expired_total')).toMatch(/ 1$/m);
    expect(statSync(file).size).toBe(SIZE);
  });
});
