export function ensurePostfixInstalled(): void;
export function masterCf(port: number): string;
export function postfixCommand(confDir: string, verb: string): { ok: boolean; output: string };
export function alive(pid: number): boolean;
export interface PrivatePostfix {
  port: number;
  masterPid: number;
  maildirNew: string;
  logFile: string;
  countDelivered(): number;
  stop(): Promise<void>;
  remove(): void;
}
export function startPostfix(dir: string, options?: { domain?: string }): Promise<PrivatePostfix>;
