import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { trimTrailing } from '../text.js';
import { loadMasterKeys } from '../keys/load.js';
import { parseMasterKeys } from '../keys/ring.js';
import { ShredKeyStore } from '../keys/shred-store.js';
import type { Logger } from '../log.js';
import { FsBlobBackend } from './fs-backend.js';
import { EncryptedStore } from './store.js';

type StoreConfig = Pick<Config, 'masterKeys' | 'mode' | 'dataDir' | 'keyStoreDir'> & Partial<Pick<Config, 'storeDirectIo'>>;

/** Beside the data dir, not in it: a copy of the data dir must not carry the keys a purge destroys. */
export function keyStoreDirOf(config: Pick<Config, 'dataDir' | 'keyStoreDir'>): string {
  return config.keyStoreDir ?? `${trimTrailing(config.dataDir, '/')}.keys`;
}

/**
 * The store every stage uses: master keys loaded (or, outside production, the dev key created),
 * the key store opened, the filesystem backend under the data dir prepared, stale temp files removed.
 */
export async function openStore(config: StoreConfig, logger: Logger): Promise<EncryptedStore> {
  const store = await openStoreForReading(config, logger);
  await store.init();
  return store;
}

/** The same store for a reader that must not touch the writers' temp files (the parse thread). */
export async function openStoreForReading(config: StoreConfig, logger: Logger): Promise<EncryptedStore> {
  const keys = await loadMasterKeys(config, logger);
  const shred = new ShredKeyStore(join(keyStoreDirOf(config), 'live'), keys);
  return new EncryptedStore(new FsBlobBackend(config.dataDir, { directIo: config.storeDirectIo }), keys, logger.child({ component: 'store' }), shred);
}

/** The archive: its own directory, optionally its own master keys, its keys under `archive/` in the key store. */
export async function openArchive(config: StoreConfig & Pick<Config, 'archiveDir' | 'archiveMasterKeys'>, logger: Logger): Promise<EncryptedStore> {
  const keys = config.archiveMasterKeys ? parseMasterKeys(config.archiveMasterKeys) : await loadMasterKeys(config, logger);
  const shred = new ShredKeyStore(join(keyStoreDirOf(config), 'archive'), keys);
  const dir = config.archiveDir ?? join(config.dataDir, 'archive');
  const store = new EncryptedStore(new FsBlobBackend(dir, { directIo: config.storeDirectIo }), keys, logger.child({ component: 'archive' }), shred);
  await store.init();
  return store;
}
