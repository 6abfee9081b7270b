import type { Config } from '../config/schema.js';
import { loadMasterKeys } from '../keys/load.js';
import type { Logger } from '../log.js';
import { FsBlobBackend } from './fs-backend.js';
import { EncryptedStore } from './store.js';

/**
 * The store every stage uses: master keys loaded (or, outside production, the dev key created),
 * the filesystem backend under the data dir prepared, stale temp files removed.
 */
export async function openStore(config: Pick<Config, 'masterKeys' | 'mode' | 'dataDir'>, logger: Logger): Promise<EncryptedStore> {
  const keys = await loadMasterKeys(config, logger);
  const store = new EncryptedStore(new FsBlobBackend(config.dataDir), keys, logger.child({ component: 'store' }));
  await store.init();
  return store;
}
