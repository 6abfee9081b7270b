/** What other stages import: the contract, the factory, and the pieces a new backend needs. */
export type { ObjectInfo, ObjectMeta, ObjectStore, PutOptions, PutResult } from './types.js';
export type { BlobBackend, BlobReader, BlobWriter } from './backend.js';
export { openStore } from './open.js';
export { EncryptedStore } from './store.js';
export { FsBlobBackend } from './fs-backend.js';
export type { RangeReader } from './range.js';
