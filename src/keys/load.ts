import { constants } from 'node:fs';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { generateMasterKey } from './generate.js';
import { makeKeyRing, parseEntry, parseMasterKeys, type KeyRing } from './ring.js';

export const DEV_KEY_FILE = 'master.key';

/**
 * The master keys for this process. Configured keys win; without them, production refuses to
 * start, and development/test use (or create) `<dataDir>/master.key` with a loud warning.
 */
export async function loadMasterKeys(config: Pick<Config, 'masterKeys' | 'mode' | 'dataDir'>, logger: Logger): Promise<KeyRing> {
  if (config.masterKeys !== undefined) return parseMasterKeys(config.masterKeys);
  if (config.mode === 'production') {
    throw new CasedropError(ErrorCode.KeyMissing, 'CASEDROP_MASTER_KEYS is not set; production needs a master key (make one with `casedrop keygen`)');
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const file = join(config.dataDir, DEV_KEY_FILE);
  const { entry, created } = await readOrCreateKeyFile(file);
  const key = parseDevKey(entry, file);
  logger.warn(
    { keyFile: file, keyId: key.id, created },
    'NO CASEDROP_MASTER_KEYS SET: using a development master key stored next to the data. ' +
      'Anyone who can read the data dir can decrypt it. Set CASEDROP_MASTER_KEYS in production.',
  );
  if (!created) await warnIfLoose(file, logger);
  return makeKeyRing([key]);
}

/**
 * Two processes starting at once must end up with the same key: the key is written in full to a
 * private temp file, then hard-linked into place. link() fails with EEXIST like O_EXCL, and the
 * name never points at a half-written file, so the loser simply reads the winner's key.
 */
export async function readOrCreateKeyFile(file: string): Promise<{ entry: string; created: boolean }> {
  const existing = await readIfExists(file);
  if (existing !== undefined) return { entry: existing, created: false };
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const entry = generateMasterKey();
  const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(`${entry}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(temp, file);
    return { entry, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { entry: (await readIfExists(file)) ?? '', created: false };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseDevKey(entry: string, file: string) {
  try {
    return parseEntry(entry, 1);
  } catch (err) {
    throw new CasedropError(ErrorCode.ConfigInvalid, `${file} does not hold one "id:base64" master key`, { cause: err });
  }
}

async function warnIfLoose(file: string, logger: Logger): Promise<void> {
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) logger.warn({ keyFile: file, mode: (mode & 0o777).toString(8) }, 'master key file is readable by group or others');
}
