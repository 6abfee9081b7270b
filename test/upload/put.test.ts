import { counterTotal } from '../helpers/metrics.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { readParts } from '../../src/intake/parts.js';
import { fileView } from '../../src/intake/records.js';
import { readAll } from '../pipeline/helpers.js';
import { CASE, caseFiles, run, startUploadEnv, tempBlobs, type UploadEnv } from './helpers.js';

let env: UploadEnv;
let token: string;
const dir = mkdtempSync(join(tmpdir(), 'casedrop-put-'));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** curl as a customer runs it; returns status, headers and the JSON body. */
async function curl(args: string[]): Promise<{ status: number; headers: string; body: Record<string, unknown>; stderr: string }> {
  const headerFile = join(dir, `h-${randomBytes(4).toString('hex')}`);
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '-D', headerFile, '-w', '\n%{http_code}', ...args], { maxBuffer: 1 << 20 });
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status, headers: readFileSync(headerFile, 'utf8'), body: JSON.parse(lines.join('\n') || '{}') as Record<string, unknown>, stderr };
}

/** Raw HTTP/1.1 over a socket: what curl cannot be made to do (lie about lengths, watch for 100). */
function raw(head: string, body?: Buffer, endAfter = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(env.listener.port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
    socket.write(head);
    if (body) socket.write(body);
    if (endAfter) socket.end();
  });
}

beforeAll(async () => {
  env = await startUploadEnv({
    CASEDROP_UPLOAD_MAX_FILE_BYTES: String(8 << 20),
    CASEDROP_UPLOAD_LOGIN_FAILURES_PER_ADDRESS: '1000',
    CASEDROP_UPLOAD_LOGIN_FAILURES_PER_CASE: '1000',
  });
  await env.registry.open(CASE, 'eng@example.com');
  token = (await env.tokens.create(CASE, { label: 'router-7', expiresInSeconds: 3600 })).secret;
});

afterAll(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PUT /home/<name> with curl', () => {
  it('streams a file into the case and answers 201 with the receipt and Repr-Digest', async () => {
    const bytes = randomBytes(5 << 20);
    writeFileSync(join(dir, 'core.bin'), bytes);
    const [storedBefore, bytesBefore] = [
      await counterTotal('casedrop_uploads_total', { channel: 'https', result: 'stored' }),
      await counterTotal('casedrop_upload_bytes_total', { channel: 'https' }),
    ];
    const r = await curl(['-T', join(dir, 'core.bin'), '--user', `${CASE}:${token}`, '-H', 'Expect: 100-continue', `${env.base}/home/core.bin`]);
    expect(r.status).toBe(201);
    expect(r.stderr).toMatch(/< HTTP\/1\.1 100 Continue/);
    expect(r.body).toMatchObject({
      case: CASE,
      name: 'core.bin',
      size: bytes.length,
      sha256: sha(bytes),
      channel: 'https',
      tokenLabel: 'router-7',
      verdict: 'reject',
      reason: 'not-an-archive',
    });
    expect(r.headers).toMatch(new RegExp(`repr-digest: sha-256=:${b64(sha(bytes)).replace(/[+/]/g, '\\$&')}:`, 'i'));
    const id = `cases/${CASE}/files/${String(r.body.fileId)}`;
    const parts = (await env.store.head(id)).meta.parts as string[];
    expect((await readAll(readParts(env.store, parts))).equals(bytes)).toBe(true);
    expect(await fileView(env.store, await env.store.head(id))).toMatchObject({
      storedName: 'core.bin',
      channel: 'https',
      tokenLabel: 'router-7',
      clientAddress: '127.0.0.1',
    });
    const [t] = await env.tokens.list(CASE);
    expect(t).toMatchObject({ bytesUploaded: bytes.length });
    expect(t!.lastUsedAt).toBeDefined();
    expect(await counterTotal('casedrop_uploads_total', { channel: 'https', result: 'stored' })).toBe(storedBefore + 1);
    expect(await counterTotal('casedrop_upload_bytes_total', { channel: 'https' })).toBe(bytesBefore + bytes.length);
    const trail = await new AuditLog(env.store, env.redis, env.config.redisPrefix).read(CASE);
    expect(trail.find((e) => e.file?.id === id)).toMatchObject({
      type: 'stored',
      actor: 'token router-7',
      channel: 'https',
      file: { sha256: sha(bytes), size: bytes.length },
    });
  });

  it('never overwrites: the same name again gets a suffix, reported in the receipt', async () => {
    writeFileSync(join(dir, 'again.bin'), randomBytes(1000));
    const first = await curl(['-T', join(dir, 'again.bin'), '--user', `${CASE}:${token}`, `${env.base}/home/again.bin`]);
    const second = await curl(['-T', join(dir, 'again.bin'), '--user', `${CASE}:${token}`, `${env.base}/home/again.bin`]);
    expect([first.body.name, second.body.name]).toEqual(['again.bin', 'again (2).bin']);
  });

  it('takes Bearer tokens and UTF-8 names', async () => {
    writeFileSync(join(dir, 'b.bin'), randomBytes(1000));
    const r = await curl(['-T', join(dir, 'b.bin'), '-H', `Authorization: Bearer ${token}`, `${env.base}/home/${encodeURIComponent('Résumé ログ.bin')}`]);
    expect(r.status).toBe(201);
    expect(r.body.name).toBe('Résumé ログ.bin');
  });

  it('a matching Content-Digest is accepted; a different one is 422 and nothing is kept', async () => {
    const bytes = randomBytes(300_000);
    writeFileSync(join(dir, 'd.bin'), bytes);
    const ok = await curl([
      '-T',
      join(dir, 'd.bin'),
      '--user',
      `${CASE}:${token}`,
      '-H',
      `Content-Digest: sha-256=:${b64(sha(bytes))}:`,
      `${env.base}/home/d.bin`,
    ]);
    expect(ok.status).toBe(201);
    const before = await caseFiles(env);
    const bad = await curl([
      '-T',
      join(dir, 'd.bin'),
      '--user',
      `${CASE}:${token}`,
      '-H',
      `Repr-Digest: sha-256=:${b64(sha(Buffer.from('other')))}:`,
      `${env.base}/home/d2.bin`,
    ]);
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain(sha(bytes));
    expect(await caseFiles(env)).toEqual(before);
    expect(tempBlobs(env)).toEqual([]);
    const malformed = await curl(['-T', join(dir, 'd.bin'), '--user', `${CASE}:${token}`, '-H', 'Content-Digest: sha-256=:abc:', `${env.base}/home/d3.bin`]);
    expect(malformed.status).toBe(400);
  });

  it.each([['..%2Fetc%2Fpasswd'], ['a%2Fb.bin'], ['bell%07.bin'], ['.hidden']])('refuses the name %s with 400 and the rule', async (name) => {
    const r = await curl(['-T', join(dir, 'b.bin'), '--user', `${CASE}:${token}`, '--path-as-is', `${env.base}/home/${name}`]);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/one path segment of at most 200 bytes/);
  });

  it('a file over the per-file cap is 413 before the body is sent; a chunked one is cut off with nothing kept', async () => {
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc((8 << 20) + 1));
    const declared = await curl(['-T', join(dir, 'big.bin'), '--user', `${CASE}:${token}`, '-H', 'Expect: 100-continue', `${env.base}/home/big.bin`]);
    expect(declared.status).toBe(413);
    expect(declared.stderr).not.toMatch(/100 Continue/);
    const before = await caseFiles(env);
    const chunked = await curl([
      '-T',
      join(dir, 'big.bin'),
      '--user',
      `${CASE}:${token}`,
      '-H',
      'Transfer-Encoding: chunked',
      `${env.base}/home/big.bin`,
    ]).catch((e: { stdout?: string }) => e);
    if ('status' in chunked) expect(chunked.status).toBe(413);
    expect(await caseFiles(env)).toEqual(before);
    expect(tempBlobs(env)).toEqual([]);
  });
});

describe('Expect: 100-continue is answered only after the checks', () => {
  const head = (auth: string, name = 'x.bin', length = 1000) =>
    `PUT /home/${name} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;

  it('a wrong token gets 401 and never a 100 (the body is not sent)', async () => {
    const answer = await raw(head(`Basic ${Buffer.from(`${CASE}:cdu_${'A'.repeat(32)}`).toString('base64')}`), undefined, false);
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).not.toMatch(/100 Continue/);
  });

  it('a good token gets 100 Continue, then 201 for the body', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(env.listener.port, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => {
        got += d.toString('latin1');
        if (got.startsWith('HTTP/1.1 100 Continue') && got.endsWith('\r\n\r\n') && !got.includes('201')) socket.write(randomBytes(1000));
        if (got.includes('\r\n\r\n{') && got.endsWith('\n')) socket.end();
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(got));
      socket.write(head(`Basic ${Buffer.from(`${CASE}:${token}`).toString('base64')}`, 'cont.bin'));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
  });
});

describe('hostile clients', () => {
  it('a body shorter than Content-Length (client gone) is no case file: what arrived waits for a resume', async () => {
    const before = await caseFiles(env);
    await raw(`PUT /home/short.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 100000\r\n\r\n`, randomBytes(5000));
    await vi.waitFor(
      async () => {
        const head = await fetch(`${env.base}/home/short.bin`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
        // what the server had read when the connection went: at most what was sent
        expect(Number(head.headers.get('upload-offset') ?? NaN)).toBeLessThanOrEqual(5000);
        // keeping it means an fsync: bounded generously, not by vi.waitFor's 1 s (a loaded machine misses that)
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(tempBlobs(env)).toEqual([]);
    expect(await caseFiles(env)).toEqual(before);
  });

  it('a body longer than Content-Length is a malformed request: 400, nothing kept', async () => {
    const before = await caseFiles(env);
    // the bytes past the declared length are not a request: Node's parser refuses the connection
    const answer = await raw(`PUT /home/long.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000\r\n\r\n`, randomBytes(2000));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    await expect.poll(() => tempBlobs(env)).toEqual([]);
    expect(await caseFiles(env)).toEqual(before);
  });

  it('revoked and expired tokens and a closed case are 401', async () => {
    writeFileSync(join(dir, 's.bin'), randomBytes(100));
    const put = (t: string) => curl(['-T', join(dir, 's.bin'), '--user', `${CASE}:${t}`, `${env.base}/home/s.bin`]);
    const revoked = await env.tokens.create(CASE, { label: 'r', expiresInSeconds: 3600 });
    await env.tokens.revoke(CASE, revoked.token.id);
    expect((await put(revoked.secret)).status).toBe(401);
    const expired = await env.tokens.create(CASE, { label: 'e', expiresInSeconds: 0 });
    expect((await put(expired.secret)).status).toBe(401);
    await env.registry.close(CASE);
    const closed = await put(token);
    await env.registry.reopen(CASE);
    expect(closed.status).toBe(401);
    expect(closed.headers).toMatch(/www-authenticate: Basic/i);
    expect((await put(token)).status).toBe(201);
  });

  it('python requests (the sample client) uploads with Basic auth and gets the receipt', async () => {
    const bytes = randomBytes(3 << 20);
    writeFileSync(join(dir, 'py.bin'), bytes);
    const script = `import requests,sys,json
with open(sys.argv[1],'rb') as f:
    r = requests.put(sys.argv[2], data=f, auth=(sys.argv[3], sys.argv[4]))
print(json.dumps({"status": r.status_code, "digest": r.headers.get("Repr-Digest"), "body": r.json()}))`;
    const { stdout } = await run('python3', ['-c', script, join(dir, 'py.bin'), `${env.base}/home/py.bin`, CASE, token]);
    const out = JSON.parse(stdout) as { status: number; digest: string; body: { sha256: string } };
    expect(out.status).toBe(201);
    expect(out.body.sha256).toBe(sha(bytes));
    expect(out.digest).toBe(`sha-256=:${b64(sha(bytes))}:`);
  });
});
