import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ssh2 from 'ssh2';
import type { Logger } from '../log.js';

export const HOST_KEY_KINDS = [
  { file: 'ssh_host_ed25519_key', type: 'ed25519' as const },
  // for clients without Ed25519 (rsa-sha2-256/512, or ssh-rsa when legacy algorithms are on)
  { file: 'ssh_host_rsa_key', type: 'rsa' as const, bits: 3072 },
];

/**
 * The SSH host keys, made once on first start (mode 0600) and read afterwards, so clients never
 * see a changed key after a restart. Two processes starting at once cannot both write one: each
 * writes a complete, fsynced temp file and links it into place, which fails for the loser, who then
 * reads the winner's whole key (never a half-written one).
 */
export async function loadHostKeys(dir: string, logger: Logger): Promise<Buffer[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keys: Buffer[] = [];
  for (const kind of HOST_KEY_KINDS) {
    const path = join(dir, kind.file);
    let pem = await readFile(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (!pem) {
      if (await createOnce(path, newPrivateKey(kind))) logger.warn({ path }, 'created a new SSH host key');
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

/** Writes `content` at `path` unless a file is there already; true when this call created it. */
async function createOnce(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(temp, path);
    // the new name must survive a power loss too, or the next start makes a different key
    await syncDirectory(dirname(path));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temp);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
