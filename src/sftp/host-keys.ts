import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Logger } from '../log.js';

const KINDS = [
  { file: 'ssh_host_ed25519_key', type: 'ed25519' as const },
  // for clients without Ed25519 (rsa-sha2-256/512, or ssh-rsa when legacy algorithms are on)
  { file: 'ssh_host_rsa_key', type: 'rsa' as const, bits: 3072 },
];

/**
 * The SSH host keys, made once on first start (mode 0600) and read afterwards, so clients never
 * see a changed key after a restart. Two processes starting at once cannot both write one: the
 * file is created exclusively and the loser reads the winner's.
 */
export async function loadHostKeys(dir: string, logger: Logger): Promise<Buffer[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keys: Buffer[] = [];
  for (const kind of KINDS) {
    const path = join(dir, kind.file);
    let pem = await readFile(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (!pem) {
      const pair = ssh2.utils.generateKeyPairSync(kind.type, kind.type === 'rsa' ? { bits: kind.bits } : {});
      await writeFile(path, pair.private, { mode: 0o600, flag: 'wx' }).then(
        () => logger.warn({ path }, 'created a new SSH host key'),
        (err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)),
      );
      pem = await readFile(path);
    }
    const parsed = ssh2.utils.parseKey(pem);
    if (parsed instanceof Error) throw new Error(`SSH host key ${path} is unreadable: ${parsed.message}`);
    const pub = (Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH();
    logger.info({ path, fingerprint: `SHA256:${createHash('sha256').update(pub).digest('base64').replace(/=/g, '')}` }, 'SSH host key');
    keys.push(pem);
  }
  return keys;
}
