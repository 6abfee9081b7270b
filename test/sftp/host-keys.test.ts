import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { HOST_KEY_KINDS, loadHostKeys, newPrivateKey } from '../../src/sftp/host-keys.js';
import { createLogger } from '../../src/log.js';

const silent = createLogger('silent');
const ed25519 = HOST_KEY_KINDS[0]!;

describe('SSH host keys', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('never keeps a generated key that does not parse (ssh2 writes one now and then)', () => {
    const good = ssh2.utils.generateKeyPairSync('ed25519').private;
    const made = [good.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA'), good];
    expect(ssh2.utils.parseKey(made[0]!)).toBeInstanceOf(Error);
    let calls = 0;
    expect(newPrivateKey(ed25519, () => made[calls++]!)).toBe(good);
    expect(calls).toBe(2);
  });

  it('gives up with an error rather than looping when the generator never yields a readable key', () => {
    expect(() => newPrivateKey(ed25519, () => 'not a key')).toThrow(/could not generate/);
  });

  it('processes starting at once end up with one key each kind, whole, mode 0600, no temp files left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'casedrop-hostkeys-'));
    dirs.push(dir);
    const loaded = await Promise.all(Array.from({ length: 6 }, () => loadHostKeys(join(dir, 'ssh'), silent)));
    for (const keys of loaded) expect(keys.map(String)).toEqual(loaded[0]!.map(String));
    expect(readdirSync(join(dir, 'ssh')).sort()).toEqual(HOST_KEY_KINDS.map((k) => k.file).sort());
    for (const k of HOST_KEY_KINDS) {
      const path = join(dir, 'ssh', k.file);
      expect(ssh2.utils.parseKey(readFileSync(path))).not.toBeInstanceOf(Error);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    const again = await loadHostKeys(join(dir, 'ssh'), silent);
    expect(again.map(String)).toEqual(loaded[0]!.map(String));
  });
});
