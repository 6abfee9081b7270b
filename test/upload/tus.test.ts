import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tus from 'tus-js-client';
import { readParts } from '../../src/intake/parts.js';
import { fileView } from '../../src/intake/records.js';
import { readAll } from '../pipeline/helpers.js';
import { CASE, caseFiles, startUploadEnv, type UploadEnv } from './helpers.js';

/** tus 1.0 at /files/ with tus-js-client in Node, as a browser page or a script would use it. */
let env: UploadEnv;
let token: string;
let other: string;
const basic = (secret: string) => `Basic ${Buffer.from(`${CASE}:${secret}`).toString('base64')}`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  env = await startUploadEnv();
  await env.registry.open(CASE, 'eng@example.com');
  token = (await env.tokens.create(CASE, { label: 'browser', expiresInSeconds: 3600 })).secret;
  other = (await env.tokens.create(CASE, { label: 'someone else', expiresInSeconds: 3600 })).secret;
});
afterAll(() => env.close());

function upload(data: Buffer, opts: Partial<tus.UploadOptions> = {}): { done: Promise<string>; upload: tus.Upload } {
  let u!: tus.Upload;
  const done = new Promise<string>((resolve, reject) => {
    u = new tus.Upload(data, {
      endpoint: `${env.base}/files/`,
      chunkSize: 4 << 20,
      retryDelays: [],
      headers: { authorization: basic(token) },
      metadata: { filename: 'capture.pcap' },
      onError: reject,
      onSuccess: () => resolve(u.url ?? ''),
      ...opts,
    });
  });
  return { done, upload: u };
}

describe('tus with tus-js-client', () => {
  it('uploads in chunks into the case, channel tus, the right SHA-256', async () => {
    const data = randomBytes(10 << 20);
    const first = upload(data);
    first.upload.start();
    await first.done;
    const ids = await caseFiles(env);
    expect(ids).toHaveLength(1);
    const info = await env.store.head(ids[0]!);
    expect(await fileView(env.store, info)).toMatchObject({
      storedName: 'capture.pcap',
      channel: 'tus',
      tokenLabel: 'browser',
      sha256: sha(data),
      size: data.length,
    });
    expect(sha(await readAll(readParts(env.store, info.meta.parts as string[])))).toBe(sha(data));
  });

  it('an upload stopped half-way resumes from its URL and ends complete', async () => {
    const data = randomBytes(12 << 20);
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const first = upload(data, {
      metadata: { filename: 'resumed.bin' },
      onChunkComplete: (_c, sent) => {
        if (sent >= 4 << 20) stop();
      },
    });
    first.upload.start();
    await stopped;
    await first.upload.abort();
    const url = first.upload.url!;
    const head = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0', authorization: basic(token) } });
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThanOrEqual(4 << 20);
    expect(offset).toBeLessThan(data.length);
    // a colleague's token cannot see it
    expect((await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0', authorization: basic(other) } })).status).toBe(404);
    const second = upload(data, { uploadUrl: url, metadata: { filename: 'resumed.bin' } });
    second.upload.start();
    await second.done;
    const files = await Promise.all((await caseFiles(env)).map(async (id) => fileView(env.store, await env.store.head(id))));
    expect(files.find((f) => f.storedName === 'resumed.bin')).toMatchObject({ sha256: sha(data), size: data.length });
  });

  it('terminates an upload with DELETE, and refuses a wrong token and a bad name', async () => {
    const data = randomBytes(6 << 20);
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const u = upload(data, { metadata: { filename: 'gone.bin' }, onChunkComplete: () => stop() });
    u.upload.start();
    await stopped;
    await u.upload.abort(true);
    const head = await fetch(u.upload.url!, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0', authorization: basic(token) } });
    expect(head.status).toBe(404);
    expect(await env.store.list(`uploads/${u.upload.url!.split('/').pop()}/`)).toEqual([]);
    const wrong = upload(data, { headers: { authorization: basic(`cdu_${'x'.repeat(32)}`) } });
    wrong.upload.start();
    await expect(wrong.done).rejects.toThrow(/401/);
    const badName = upload(data, { metadata: { filename: '../etc/passwd' } });
    badName.upload.start();
    await expect(badName.done).rejects.toThrow(/400/);
  });
});
