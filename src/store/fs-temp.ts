import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/**
 * Temp blobs are named `<host>.<pid>.<random>.part` so start-up cleanup can tell a crashed
 * writer's leftovers from a live writer's work: several casedrop processes (SMTP, workers,
 * CLI) share one data dir and start at different times.
 */
const TEMP_SUFFIX = '.part';
/** Any temp untouched this long is abandoned, whoever wrote it (a live put writes every few seconds). */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000;

export const thisHost =
  hostname()
    .replace(/[^A-Za-z0-9-]/g, '-')
    .slice(0, 64) || 'host';

/** Temp names being written by this process, across every store instance it opened. */
export const tempsInFlight = new Set<string>();

export function newTempName(): string {
  return `${thisHost}.${process.pid}.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`;
}

export interface TempFacts {
  name: string;
  mtimeMs: number;
}

export interface Here {
  host: string;
  pid: number;
  now: number;
  inFlight: ReadonlySet<string>;
  isAlive(pid: number): boolean;
}

/** Pure decision: may this temp blob be removed? */
export function isStaleTemp(temp: TempFacts, here: Here): boolean {
  if (here.inFlight.has(temp.name)) return false;
  if (here.now - temp.mtimeMs > STALE_TEMP_AGE_MS) return true;
  const owner = /^([A-Za-z0-9-]+)\.(\d+)\.[0-9a-f]+\.part$/.exec(temp.name);
  if (!owner || owner[1] !== here.host) return false;
  const pid = Number(owner[2]);
  // our own pid but not in flight: a previous incarnation (containers restart as pid 1)
  if (pid === here.pid) return true;
  return !here.isAlive(pid);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
