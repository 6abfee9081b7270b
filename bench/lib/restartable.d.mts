import type { LoggedChild } from './procs.mjs';

export interface RoleProcess {
  role: string;
  child: LoggedChild;
  pid: number;
  logFile: string;
  /** 1 for the first start of the role, 2 after the first restart, … */
  incarnation: number;
}
export interface RestartableCasedrop {
  smtpPort: number;
  env: Record<string, string | undefined>;
  dataDir: string;
  /** every log file written so far, one per incarnation */
  logs: string[];
  start(role: string, extraEnv?: Record<string, string>): Promise<RoleProcess>;
  kill(role: string): Promise<void>;
  stop(): Promise<void>;
  process(role: string): RoleProcess | undefined;
}
export function restartableCasedrop(
  dir: string,
  options: { redisUrl: string; prefix?: string; overrides?: Record<string, string>; cli?: string },
): Promise<RestartableCasedrop>;
