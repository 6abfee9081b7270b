import { spawn } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRng } from '../helpers/rng.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readParts } from '../../src/intake/parts.js';
import { writeRandom } from '../sftp/resume-scenario.js';
import { CASE, caseFiles, run, startUploadEnv, type UploadEnv } from '../upload/helpers.js';

/**
 * Issue 16's "a 1 GiB upload cut off at a random point and resumed ends with the right SHA-256",
 * over HTTPS with the plain-curl resume (npm test does the same with 64 MiB over plain HTTP, in
 * test/upload/resume.test.ts). curl streams the file from a pipe with its Content-Length; the pipe
 * stops at the cut point and curl is killed once the server holds those bytes (a dropped link);
 * HEAD tells the offset, `tail | curl -X PATCH` sends the rest, and the stored file is read back
 * from the encrypted store and hashed. The cut point comes from a seed that is printed
 * (HTTPS_RESUME_SEED repeats a run); HTTPS_RESUME_BYTES makes it smaller for a quick try.
 */
const MiB = 1 << 20;
/**
 * 256 MiB in `npm test`: at 1 GiB this one test took 146 s of a CI run that must stay near 10
 * minutes (the upload path still runs at about half of nginx's speed, issue 16).
 * HTTPS_RESUME_BYTES=1073741824 runs the full size the issue names (passed twice, seeds 805410895
 * and 754711433).
 */
const SIZE = Number(process.env.HTTPS_RESUME_BYTES ?? 256 * MiB);
const SEED = Number(process.env.HTTPS_RESUME_SEED ?? randomInt(2 ** 31));

describe('a large HTTPS upload (1 GiB with HTTPS_RESUME_BYTES) cut at a random point and resumed with curl (HEAD + PATCH)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'casedrop-https-resume-'));
  const cert = join(dir, 'cert.pem');
  const file = join(dir, 'core.bin');
  let env: UploadEnv;
  let token: string;
  let url: string;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', cert, '-days', '1'].concat([
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ]),
      { stdio: 'ignore' },
    );
    env = await startUploadEnv({ CASEDROP_UPLOAD_TLS_CERT: cert, CASEDROP_UPLOAD_TLS_KEY: join(dir, 'key.pem') });
    expect(env.listener.tls).toBe(true);
    await env.registry.open(CASE, 'eng@example.com');
    token = (await env.tokens.create(CASE, { label: 'core-dump', expiresInSeconds: 3600 })).secret;
    url = `https://127.0.0.1:${env.listener.port}/home/core.bin`;
  });

  afterAll(async () => {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends with exactly one file with the right SHA-256, at constant memory', { timeout: 3_600_000 }, async () => {
    const sha256 = await writeRandom(file, SIZE);
    const random = makeRng(SEED);
    // at least a few MiB on either side, so both requests carry data
    const margin = Math.min(64 * MiB, Math.floor(SIZE / 8));
    const cutAt = margin + Math.floor(random() * (SIZE - 2 * margin));
    console.log(`https-resume: seed ${SEED} (HTTPS_RESUME_SEED), ${SIZE} bytes, cut after ${cutAt}`);

    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    try {
      await cutPut(cutAt);
      const offset = await offsetNow();
      console.log(`https-resume: the server kept ${offset} bytes; resuming from there`);
      // curl and the socket hold a little in flight when the link dies; never more than was sent
      expect(offset).toBeLessThanOrEqual(cutAt);
      expect(offset).toBeGreaterThanOrEqual(cutAt - 2 * MiB);
      expect(await caseFiles(env)).toEqual([]);

      const { stdout } = await run(
        'sh',
        [
          '-c',
          `tail -c +${offset + 1} "$0" | curl -sS --cacert "$1" -X PATCH -T - -H "Upload-Offset: ${offset}" --user "$2" "$3"`,
          file,
          cert,
          `${CASE}:${token}`,
          url,
        ],
        { maxBuffer: MiB },
      );
      expect(JSON.parse(stdout)).toMatchObject({ size: SIZE, sha256, name: 'core.bin', channel: 'https', tokenLabel: 'core-dump' });

      const ids = await caseFiles(env);
      expect(ids).toHaveLength(1);
      const parts = (await env.store.head(ids[0]!)).meta.parts as string[];
      expect(parts).toHaveLength(2);
      const stored = createHash('sha256');
      let size = 0;
      for await (const chunk of readParts(env.store, parts)) {
        stored.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      expect([size, stored.digest('hex')]).toEqual([SIZE, sha256]);
    } finally {
      clearInterval(sampler);
    }
    // the server runs in this process: 1 GiB through it must not grow it by more than buffers
    expect(peak - rssBefore).toBeLessThan(150 * MiB);
  });

  /**
   * curl PUTs from a pipe with the whole file's Content-Length (`Transfer-Encoding:` drops the
   * chunked encoding curl would use for a pipe); the pipe carries only the first `cutAt` bytes, and
   * curl is killed once the server has stored nearly all of them.
   */
  async function cutPut(cutAt: number): Promise<void> {
    const curl = spawn(
      'curl',
      ['-sS', '--cacert', cert, '-T', '-', '-H', 'Transfer-Encoding:', '-H', `Content-Length: ${SIZE}`, '--user', `${CASE}:${token}`, url],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => curl.on('close', resolve));
    curl.stdin.on('error', () => undefined);
    createReadStream(file, { end: cutAt - 1 }).pipe(curl.stdin, { end: false });
    await vi.waitFor(
      () => {
        if (stagedBytes() < cutAt - MiB) throw new Error('the server has not got that far yet');
      },
      { timeout: 3_000_000, interval: 20 },
    );
    curl.kill('SIGKILL');
    expect(await exited).toBeNull();
  }

  /** HEAD, as a customer would, once the cut segment is committed (the server notices the dead link first). */
  async function offsetNow(): Promise<number> {
    return vi.waitFor(
      async () => {
        const { stdout } = await run('curl', ['-sS', '-I', '--cacert', cert, '--user', `${CASE}:${token}`, '-w', '%{http_code}', url]);
        expect(stdout.trim().split('\n').pop()).toBe('200');
        return Number(/upload-offset: (\d+)/i.exec(stdout)![1]);
      },
      { timeout: 600_000, interval: 200 },
    );
  }

  /** Bytes of writes in progress in the store: the segment the cut PUT is writing. */
  function stagedBytes(): number {
    const tmp = join(env.config.dataDir, 'objects', '.tmp');
    return readdirSync(tmp).reduce((n, f) => n + (statSync(join(tmp, f), { throwIfNoEntry: false })?.size ?? 0), 0);
  }
});
