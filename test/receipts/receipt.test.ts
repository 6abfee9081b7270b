import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { loadSigningKeys } from '../../src/receipts/keys.js';
import { CASE, run, startUploadEnv, type UploadEnv } from '../upload/helpers.js';

let env: UploadEnv;
let token: string;
const dir = mkdtempSync(join(tmpdir(), 'casedrop-receipt-'));
const data = randomBytes(200_000);

async function cli(...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const cfg = env.config;
  const code = await main(
    ['node', 'casedrop', ...args],
    createContext(
      {
        NODE_ENV: 'test',
        CASEDROP_DATA_DIR: cfg.dataDir,
        CASEDROP_MASTER_KEYS: cfg.masterKeys ?? '',
        CASEDROP_REDIS_PREFIX: cfg.redisPrefix,
        CASEDROP_LOG_LEVEL: 'silent',
      },
      (l) => out.push(l),
    ),
  );
  return { code, out };
}

beforeAll(async () => {
  env = await startUploadEnv();
  await env.registry.open(CASE, 'eng@example.com');
  token = (await env.tokens.create(CASE, { label: 'rcpt', expiresInSeconds: 3600 })).secret;
  writeFileSync(join(dir, 'logs.bin'), data);
  await run('curl', ['-sS', '-f', '-T', join(dir, 'logs.bin'), '--user', `${CASE}:${token}`, '-o', join(dir, 'receipt.json'), `${env.base}/home/logs.bin`]);
});

afterAll(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signed receipts', () => {
  it('the 201 body carries an Ed25519 JWS over the receipt, with the key published as JWKS', async () => {
    const receipt = JSON.parse(readFileSync(join(dir, 'receipt.json'), 'utf8')) as { signature: string };
    const [header] = receipt.signature.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toMatchObject({ alg: 'EdDSA', typ: 'casedrop-receipt+jws' });
    const jwks = (await (await fetch(`${env.base}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('casedrop receipt verify accepts it with the published keys, from the store, and with the matching file', async () => {
    const byUrl = await cli('receipt', 'verify', join(dir, 'receipt.json'), '--jwks', `${env.base}/.well-known/jwks.json`, '--file', join(dir, 'logs.bin'));
    expect(byUrl.code).toBe(0);
    expect(byUrl.out[0]).toMatch(new RegExp(`^valid\\tcase ${CASE}\\tlogs\\.bin\\t200000\\t[0-9a-f]{64}\\t`));
    expect((await cli('receipt', 'verify', join(dir, 'receipt.json'))).code).toBe(0);
  });

  it('refuses a changed receipt, another file, and a receipt without a signature', async () => {
    const receipt = JSON.parse(readFileSync(join(dir, 'receipt.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'changed.json'), JSON.stringify({ ...receipt, size: 1 }));
    expect((await cli('receipt', 'verify', join(dir, 'changed.json'))).code).toBe(1);
    writeFileSync(join(dir, 'other.bin'), randomBytes(10));
    expect((await cli('receipt', 'verify', join(dir, 'receipt.json'), '--file', join(dir, 'other.bin'))).code).toBe(1);
    const { signature: _s, ...unsigned } = receipt;
    writeFileSync(join(dir, 'unsigned.json'), JSON.stringify(unsigned));
    expect((await cli('receipt', 'verify', join(dir, 'unsigned.json'))).code).toBe(1);
    writeFileSync(join(dir, 'junk.json'), 'not json');
    expect((await cli('receipt', 'verify', join(dir, 'junk.json'))).code).toBe(2);
  });

  it('the signing key is kept encrypted in the store and the same after a restart', async () => {
    const first = await loadSigningKeys(env.store);
    const again = await loadSigningKeys(env.store);
    expect(again.kid).toBe(first.kid);
    const keyDir = join(env.config.dataDir, 'objects', 'receipt-keys');
    const [file] = readdirSync(keyDir);
    const der = first.privateKey.export({ format: 'der', type: 'pkcs8' });
    const seed = der.subarray(der.length - 32);
    expect(readFileSync(join(keyDir, file!)).includes(seed)).toBe(false);
    expect(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('ed25519');
  });
});
