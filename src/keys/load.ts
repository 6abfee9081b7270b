import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { readOrCreateFile } from './create-once.js';
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

/** The development master key file's one entry, made on first use (see readOrCreateFile). */
export async function readOrCreateKeyFile(file: string): Promise<{ entry: string; created: boolean }> {
  const { text, created } = await readOrCreateFile(file, () => `${generateMasterKey()}\n`);
  return { entry: text.trim(), created };
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
