import type { ChildProcess } from 'node:child_process';

export interface LoggedChild extends ChildProcess {
  /** resolves once the child exited (never rejects) */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
}
export interface ProcStats {
  pid: number;
  ppid: number;
  rssKiB: number;
  /** VmHWM: the peak resident set so far */
  peakRssKiB: number;
  /** utime + stime */
  cpuSeconds: number;
  /** cutime + cstime: children already reaped */
  childCpuSeconds: number;
}
export function freePort(): Promise<number>;
export function spawnLogged(command: string, args: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string; logFile?: string }): LoggedChild;
export function sleep(ms: number): Promise<void>;
export function waitForPort(port: number, options?: { host?: string; timeoutMs?: number; child?: ChildProcess }): Promise<void>;
export function waitUntil(predicate: () => boolean | Promise<boolean>, options?: { timeoutMs?: number; intervalMs?: number; what?: string }): Promise<number>;
export function stopChild(child: LoggedChild | undefined, graceMs?: number): Promise<void>;
export function procStats(pid: number): ProcStats | null;
export function descendants(rootPid: number): number[];
export function treeCpuSeconds(rootPid: number): number;
export function pssKiB(pid: number): number;
export function samplePss(pids: () => number[], intervalMs?: number): { stop(): number };
export function treePids(rootPid: number): () => number[];
