import type { PrivateRedis } from './redis.mjs';

export function restartRedis(dir: string, port: number, options?: { appendfsync?: 'always' | 'everysec' | 'no'; timeoutMs?: number }): Promise<PrivateRedis>;
