/**
 * What one process runs. `all` is the laptop default; in production the SMTP door, the workers and
 * the HTTP side and the upload door scale apart (one role per process), talking only through Redis and the store.
 */
export const roles = ['all', 'smtp', 'worker', 'http', 'upload', 'sftp', 'ftps'] as const;
export type Role = (typeof roles)[number];
