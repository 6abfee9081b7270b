import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { readOrCreateFile } from '../keys/create-once.js';
import type { Logger } from '../log.js';

export const HOST_KEY_KINDS = [
  { file: 'ssh_host_ed25519_key', type: 'ed25519' as const },
  // for clients without Ed25519 (rsa-sha2-256/512, or ssh-rsa when legacy algorithms are on)
  { file: 'ssh_host_rsa_key', type: 'rsa' as const, bits: 3072 },
];

/**
 * The SSH host keys, made once on first start (mode 0600) and read afterwards, so clients never
 * see a changed key after a restart; two processes starting at once end up with the same one
 * (readOrCreateFile, as the development master key).
 */
export async function loadHostKeys(dir: string, logger: Logger): Promise<Buffer[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keys: Buffer[] = [];
  for (const kind of HOST_KEY_KINDS) {
    const path = join(dir, kind.file);
    const { text, created } = await readOrCreateFile(path, () => newPrivateKey(kind));
    if (created) logger.warn({ path }, 'created a new SSH host key');
    const pem = Buffer.from(text);
    const parsed = ssh2.utils.parseKey(pem);
    if (parsed instanceof Error) throw new Error(`SSH host key ${path} is unreadable: ${parsed.message}`);
    const pub = (Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH();
    logger.info({ path, fingerprint: `SHA256:${createHash('sha256').update(pub).digest('base64').replace(/=/g, '')}` }, 'SSH host key');
    keys.push(pem);
  }
  return keys;
}

/**
 * ssh2 1.17's generateKeyPairSync now and then writes an Ed25519 key its own parseKey calls
 * malformed (8 in 3,000 here): a key is kept only once it parses, so a first start never leaves a
 * host key that stops every later start.
 */
export function newPrivateKey(kind: (typeof HOST_KEY_KINDS)[number], generate = generateWithSsh2): string {
  for (let attempt = 1; ; attempt++) {
    const key = generate(kind);
    if (!(ssh2.utils.parseKey(key) instanceof Error)) return key;
    if (attempt === 20) throw new Error(`could not generate a readable ${kind.type} SSH host key`);
  }
}

function generateWithSsh2(kind: (typeof HOST_KEY_KINDS)[number]): string {
  return ssh2.utils.generateKeyPairSync(kind.type, kind.type === 'rsa' ? { bits: kind.bits } : {}).private;
}
