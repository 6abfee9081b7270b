import type { LoggedChild } from './procs.mjs';

export const repoRoot: string;
export const cliPath: string;
export const serviceNodeFlags: string[];
export function newMasterKeys(): string;
export function casedropEnv(options: {
  dataDir: string;
  redisUrl: string;
  prefix?: string;
  smtpPort: number;
  masterKeys: string;
  overrides?: Record<string, string>;
}): Record<string, string | undefined>;
export function runCli(env: Record<string, string | undefined>, args: string[], options?: { timeoutMs?: number }): Promise<string>;
export interface CasedropProcess {
  role: string;
  child: LoggedChild;
  pid: number;
  logFile: string;
  httpPort: number;
}
export interface RunningCasedrop {
  smtpPort: number;
  env: Record<string, string | undefined>;
  dataDir: string;
  processes: CasedropProcess[];
  stop(): Promise<void>;
}
export function startCasedrop(
  dir: string,
  options: { redisUrl: string; prefix?: string; roles?: string[]; overrides?: Record<string, string>; roleNodeFlags?: Record<string, string[]> },
): Promise<RunningCasedrop>;
export function countOutbox(dataDir: string, pattern?: RegExp): number;
export function queueCounts(redisPort: number, prefix: string, queue: string): Promise<{ pending: number; completed: number; failed: number }>;
export function countObjects(dataDir: string, namespace: string): number;
export function envFromSpec(spec?: string): Record<string, string>;
