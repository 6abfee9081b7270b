import type { LoggedChild } from './procs.mjs';

export interface PrivateRedis {
  port: number;
  url: string;
  child: LoggedChild;
  pid: number;
  stop(): Promise<void>;
}
export function startRedis(dir: string, options?: { appendfsync?: 'always' | 'everysec' | 'no' }): Promise<PrivateRedis>;
export function redisCommand(port: number, command: string): Promise<string>;
