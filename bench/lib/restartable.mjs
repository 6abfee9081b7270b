// casedrop roles as child processes that can be killed (-9) and started again one by one, the way
// a supervisor (systemd, Docker's restart policy) would bring them back. Used by the fault tests
// (test/faults/kill.test.ts, worker-ack.test.ts). Each incarnation logs to its own file, so "ready"
// is never read from a previous life's log.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { casedropEnv, cliPath as builtCli, newMasterKeys, opsPortEnv, repoRoot, serviceNodeFlags } from './casedrop.mjs';
import { freePort, spawnLogged, stopChild, waitForPort, waitUntil } from './procs.mjs';

/**
 * Prepares an instance under `dir` (data dir, SMTP port, environment) without starting anything.
 * `cli` lets a test run another build (e.g. a mutated copy) instead of dist/.
 */
export async function restartableCasedrop(dir, { redisUrl, prefix, overrides = {}, cli = builtCli }) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const smtpPort = await freePort();
  const env = casedropEnv({ dataDir, redisUrl, prefix, smtpPort, masterKeys: newMasterKeys(), overrides });
  const live = new Map(); // role → { child, pid, logFile, incarnation }
  const lives = new Map(); // role → incarnations so far
  const logs = [];

  /** Starts `role` (extra environment for this incarnation only); resolves once it is ready. */
  async function start(role, extraEnv = {}) {
    if (live.get(role)?.child.exitCode === null && live.get(role)?.child.signalCode === null) throw new Error(`${role} is already running`);
    const incarnation = (lives.get(role) ?? 0) + 1;
    lives.set(role, incarnation);
    const logFile = join(dir, `casedrop-${role}-${incarnation}.log`);
    logs.push(logFile);
    const httpPort = await freePort();
    const child = spawnLogged(process.execPath, [...serviceNodeFlags, cli, 'serve', '--role', role], {
      env: { ...env, ...opsPortEnv(httpPort), ...extraEnv },
      cwd: repoRoot,
      logFile,
    });
    const proc = { role, child, pid: child.pid, logFile, incarnation };
    live.set(role, proc);
    // a bound on a start that failed, not a speed check: on a 2-core machine at load 25, a Node
    // start has been seen to take over 30 s
    const timeoutMs = 120_000;
    try {
      if (role === 'smtp' || role === 'all') await waitForPort(smtpPort, { timeoutMs, child });
      await waitUntil(
        () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${role} exited (${child.exitCode ?? child.signalCode})`);
          return /casedrop started/.test(readLog(logFile));
        },
        { timeoutMs, intervalMs: 25, what: `${role} to log "casedrop started"` },
      );
    } catch (err) {
      throw new Error(`${role} did not start: ${err.message}\n${readLog(logFile).split('\n').slice(-15).join('\n')}`, { cause: err });
    }
    return proc;
  }

  /** kill -9 of the role's live process; resolves once it is gone. */
  async function kill(role) {
    const proc = live.get(role);
    if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    proc.child.kill('SIGKILL');
    await proc.child.exited;
  }

  async function stop() {
    await Promise.all([...live.values()].map((p) => stopChild(p.child, 15_000)));
  }

  return { smtpPort, env, dataDir, logs, start, kill, stop, process: (role) => live.get(role) };
}

function readLog(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
