// Runs the built casedrop (dist/cli/main.js) as child processes, one per role, against a given
// Redis and a fresh data dir, the way an operator would: configuration by CASEDROP_* environment
// only. Used by bench/run.mjs and by the fault tests.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnLogged, stopChild, waitForPort, waitUntil } from './procs.mjs';
import { redisCommand } from './redis.mjs';

const execFileP = promisify(execFile);
export const repoRoot = resolve(new URL('../..', import.meta.url).pathname);
export const cliPath = join(repoRoot, 'dist/cli/main.js');
/** The V8 flags `npm start` and the Docker image run the service with (see package.json). */
export const serviceNodeFlags = ['--max-semi-space-size=2', '--max-old-space-size=128', '--initial-old-space-size=32'];

/** A fresh master key in casedrop's `id:base64(32 bytes)` form. */
export function newMasterKeys() {
  return `bench:${randomBytes(32).toString('base64')}`;
}

/**
 * The environment of every casedrop process of one instance. `overrides` wins; it is where a
 * caller sets limits (e.g. CASEDROP_DEDUP_WINDOW_SECONDS) for its scenario.
 */
export function casedropEnv({ dataDir, redisUrl, prefix = 'casedrop', smtpPort, masterKeys, overrides = {} }) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    CASEDROP_LOG_LEVEL: 'info',
    CASEDROP_DATA_DIR: dataDir,
    CASEDROP_REDIS_URL: redisUrl,
    CASEDROP_REDIS_PREFIX: prefix,
    CASEDROP_MASTER_KEYS: masterKeys,
    CASEDROP_SMTP_HOST: '127.0.0.1',
    CASEDROP_SMTP_PORT: String(smtpPort),
    CASEDROP_HTTP_HOST: '127.0.0.1',
    // role `all` also opens the SFTP door: a free port, so instances side by side never collide
    CASEDROP_SFTP_PORT: '0',
    ...overrides,
  };
}

/**
 * "NAME=value NAME=value" (BENCH_CASEDROP_ENV, UPLOAD_BENCH_ENV): more environment for casedrop's
 * processes, to measure a process-wide setting (e.g. glibc's MALLOC_ARENA_MAX) without changing the service.
 */
export function envFromSpec(spec = '') {
  return Object.fromEntries(
    spec
      .split(' ')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

/** One free port per process for whichever of the HTTP port and the ops ports its role listens on. */
export function opsPortEnv(port) {
  return { CASEDROP_HTTP_PORT: String(port), CASEDROP_SMTP_OPS_PORT: String(port), CASEDROP_WORKER_OPS_PORT: String(port) };
}

/** Runs a casedrop CLI command to completion (e.g. ['case', 'open', '612345678', '--owner', 'x@y']). */
export async function runCli(env, args, { timeoutMs = 30_000 } = {}) {
  const { stdout } = await execFileP(process.execPath, [cliPath, ...args], { env, cwd: repoRoot, timeout: timeoutMs });
  return stdout;
}

/**
 * Starts one process per role (`all`, or `smtp` and `worker`) under `dir`; `roleNodeFlags` adds
 * V8/Node flags to one role (e.g. `{ worker: ['--cpu-prof'] }` for a profile). Returns
 * { smtpPort, env, dataDir, processes: [{ role, child, pid, logFile }], stop() }.
 * Each process gets its own free ports for its HTTP or ops endpoints (/healthz, /metrics) and uploads,
 * so several roles can run on one host. Ready means: the SMTP port accepts and each process logged `casedrop started`.
 */
export async function startCasedrop(dir, { redisUrl, prefix, roles = ['smtp', 'worker'], overrides = {}, roleNodeFlags = {} } = {}) {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const smtpPort = await freePort();
  const env = casedropEnv({ dataDir, redisUrl, prefix, smtpPort, masterKeys: newMasterKeys(), overrides });
  const processes = [];
  for (const role of roles) {
    const logFile = join(dir, `casedrop-${role}.log`);
    const httpPort = await freePort();
    const uploadPort = await freePort();
    // BENCH_NODE_FLAGS: extra V8/Node flags for a look inside, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
    const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const child = spawnLogged(process.execPath, [...serviceNodeFlags, ...(roleNodeFlags[role] ?? []), ...extra, cliPath, 'serve', '--role', role], {
      env: { CASEDROP_UPLOAD_PORT: String(uploadPort), ...env, ...opsPortEnv(httpPort) },
      cwd: repoRoot,
      logFile,
    });
    processes.push({ role, child, pid: child.pid, logFile, httpPort, uploadPort });
  }
  const stop = async () => {
    await Promise.all(processes.map((p) => stopChild(p.child, 15_000)));
  };
  try {
    const front = processes.find((p) => p.role === 'smtp' || p.role === 'all');
    if (front) await waitForPort(smtpPort, { timeoutMs: 30_000, child: front.child });
    // a worker listens on nothing: its "casedrop started" log line says it is ready
    for (const p of processes) await waitForLog(p, /casedrop started/, 30_000);
  } catch (err) {
    await stop();
    const logs = processes.map((p) => `--- ${p.role} log:\n${tailOf(p.logFile)}`).join('\n');
    throw new Error(`casedrop did not start: ${err.message}\n${logs}`, { cause: err });
  }
  return { smtpPort, env, dataDir, processes, stop };
}

async function waitForLog(proc, pattern, timeoutMs) {
  await waitUntil(
    () => {
      if (proc.child.exitCode !== null) throw new Error(`${proc.role} exited (${proc.child.exitCode})`);
      return pattern.test(tailOf(proc.logFile, 200));
    },
    { timeoutMs, what: `${proc.role} to log ${pattern}` },
  );
}

function tailOf(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Files in <dataDir>/outbox whose names match `pattern` (replies written when no relay is set). */
export function countOutbox(dataDir, pattern = /\.eml$/) {
  const dir = join(dataDir, 'outbox');
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const name of readdirSync(dir)) if (pattern.test(name)) n++;
  return n;
}

/**
 * Encrypted objects under `<dataDir>/objects/<namespace>/` (the store's filesystem layout: one
 * `<name>.cdo` file each), e.g. `outcomes` (one per processed message) or `cases/612345678`.
 */
export function countObjects(dataDir, namespace) {
  const dir = join(dataDir, 'objects', ...namespace.split('/'));
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((n) => n.endsWith('.cdo')).length;
}

/**
 * BullMQ job counts of one queue straight from its Redis keys (no BullMQ client needed):
 * waiting + prioritized + delayed + active = still to do; completed; failed.
 */
export async function queueCounts(redisPort, prefix, queue) {
  const k = `${prefix}:${queue}`;
  const num = async (cmd) => Number(String(await redisCommand(redisPort, cmd)).replace(/^:/, '')) || 0;
  const [wait, paused, prioritized, delayed, active, completed, failed] = await Promise.all([
    num(`LLEN ${k}:wait`),
    num(`LLEN ${k}:paused`),
    num(`ZCARD ${k}:prioritized`),
    num(`ZCARD ${k}:delayed`),
    num(`LLEN ${k}:active`),
    num(`ZCARD ${k}:completed`),
    num(`ZCARD ${k}:failed`),
  ]);
  return { pending: wait + paused + prioritized + delayed + active, completed, failed };
}
